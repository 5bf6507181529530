// A serial port (a pty from `atbridge emulate --pty`, or a real /dev/tty*) as an Arduino Stream,
// so an unmodified sketch's `SerialAT` can be a Linux file descriptor.
#ifndef ATBRIDGE_HARNESS_SERIAL_PORT_STREAM_H
#define ATBRIDGE_HARNESS_SERIAL_PORT_STREAM_H

#include <Arduino.h>

class SerialPortStream : public Stream {
 public:
  // Opens the port in raw mode (8N1, no echo, no line editing, no flow control); false on failure,
  // with the reason in errno. A port that goes away later ends the program (exit code 3).
  bool open(const char* path, unsigned long baud);
  void close();

  int available() override;
  int read() override;
  int peek() override;
  size_t write(uint8_t byte) override;
  size_t write(const uint8_t* buf, size_t size) override;
  using Print::write;
  // Waits until every byte written has left (tcdrain), as HardwareSerial::flush does.
  void flush() override;

 private:
  // Moves what the port has into the buffer; when nothing is there, waits up to waitMs for it,
  // so TinyGSM's busy loops sleep in poll() instead of spinning a core.
  void fill(int waitMs);

  int fd_ = -1;
  uint8_t buf_[4096];
  size_t head_ = 0;
  size_t tail_ = 0;
};

#endif
