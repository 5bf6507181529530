#include "SerialPortStream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

namespace {

speed_t speedFor(unsigned long baud) {
  switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: return B115200;
  }
}

}  // namespace

bool SerialPortStream::open(const char* path, unsigned long baud) {
  fd_ = ::open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (fd_ < 0) return false;
  struct termios tio;
  if (tcgetattr(fd_, &tio) != 0) {
    close();
    return false;
  }
  cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cflag &= ~CRTSCTS;
  tio.c_cc[VMIN] = 0;
  tio.c_cc[VTIME] = 0;
  cfsetispeed(&tio, speedFor(baud));
  cfsetospeed(&tio, speedFor(baud));
  if (tcsetattr(fd_, TCSANOW, &tio) != 0) {
    close();
    return false;
  }
  return true;
}

void SerialPortStream::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void SerialPortStream::fill(int waitMs) {
  if (fd_ < 0) return;
  if (head_ == tail_) head_ = tail_ = 0;
  if (tail_ == sizeof(buf_) && head_ > 0) {
    memmove(buf_, buf_ + head_, tail_ - head_);
    tail_ -= head_;
    head_ = 0;
  }
  if (tail_ == sizeof(buf_)) return;
  struct pollfd p = {fd_, POLLIN, 0};
  if (poll(&p, 1, head_ == tail_ ? waitMs : 0) <= 0) return;
  ssize_t n = (p.revents & POLLIN) ? ::read(fd_, buf_ + tail_, sizeof(buf_) - tail_) : -1;
  if (n > 0) {
    tail_ += static_cast<size_t>(n);
  } else if ((p.revents & (POLLHUP | POLLERR)) || (n < 0 && errno == EIO)) {
    // The other end is gone (the emulator stopped): nothing more can come.
    fprintf(stderr, "serial port closed\n");
    exit(3);
  }
}

int SerialPortStream::available() {
  fill(1);
  return static_cast<int>(tail_ - head_);
}

int SerialPortStream::peek() {
  fill(1);
  return head_ == tail_ ? -1 : buf_[head_];
}

int SerialPortStream::read() {
  fill(1);
  return head_ == tail_ ? -1 : buf_[head_++];
}

size_t SerialPortStream::write(uint8_t byte) {
  return write(&byte, 1);
}

size_t SerialPortStream::write(const uint8_t* buf, size_t size) {
  size_t done = 0;
  while (fd_ >= 0 && done < size) {
    ssize_t n = ::write(fd_, buf + done, size - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      break;
    } else {
      struct pollfd p = {fd_, POLLOUT, 0};
      poll(&p, 1, 100);
    }
  }
  return done;
}

void SerialPortStream::flush() {
  if (fd_ >= 0) tcdrain(fd_);
}
