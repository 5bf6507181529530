// Arduino's network Client interface, as TinyGSM's clients expect it. EpoxyDuino's own Client.h
// (for its ESP8266 core only) lacks read(uint8_t*, size_t) and has no IPAddress overloads for the
// AVR core, so this file sits ahead of it on the include path. Written from the Arduino API's
// documented interface; no code is taken from either project.
#ifndef ATBRIDGE_HARNESS_CLIENT_H
#define ATBRIDGE_HARNESS_CLIENT_H

#include <Arduino.h>
#include <IPAddress.h>
#include <Stream.h>

class Client : public Stream {
 public:
  virtual int connect(IPAddress ip, uint16_t port) = 0;
  virtual int connect(const char* host, uint16_t port) = 0;
  virtual size_t write(uint8_t byte) = 0;
  virtual size_t write(const uint8_t* buf, size_t size) = 0;
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int read(uint8_t* buf, size_t size) = 0;
  virtual int peek() = 0;
  virtual void flush() = 0;
  virtual void stop() = 0;
  virtual uint8_t connected() = 0;
  virtual operator bool() = 0;
};

#endif
