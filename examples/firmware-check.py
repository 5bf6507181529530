#!/usr/bin/env python3
"""A firmware's Wi-Fi bring-up, in Python on a serial port: run it against `atbridge emulate`.

    atbridge emulate --profile esp-at --pty /tmp/ttyV0 --trace /tmp/emu.jsonl &
    python3 examples/firmware-check.py /tmp/ttyV0 --echo 127.0.0.1:7000

It does what a sketch does at start-up (AT, echo off, station mode, join, address, one TCP
round trip) and prints one PASS or FAIL line per step; the exit code is the number of failures.
Needs pyserial (apt-get install python3-serial, or pip install pyserial).
"""
import argparse
import sys
import time

import serial

FINALS = ("OK", "ERROR", "FAIL", "SEND OK", "SEND FAIL")


class Module:
    def __init__(self, port, baud):
        self.port = serial.Serial(port, baud, timeout=0.05)
        self.heard = b""

    def read_for(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.heard += self.port.read(4096)

    def until(self, *words, timeout=5.0):
        """Reads until one of `words` (bytes) has been heard; returns everything heard so far."""
        end = time.monotonic() + timeout
        while not any(w in self.heard for w in words):
            if time.monotonic() > end:
                raise TimeoutError(f"no {b' or '.join(words)!r} within {timeout} s; heard {self.heard[-200:]!r}")
            self.heard += self.port.read(4096)
        return self.heard

    def command(self, line, timeout=5.0):
        """Sends one command line; returns its answer lines up to and including the final result."""
        self.heard = b""
        self.port.write(line.encode("latin1") + b"\r")
        end = time.monotonic() + timeout
        while True:
            lines = [l.strip() for l in self.heard.decode("latin1").split("\r\n")]
            if any(l in FINALS for l in lines):
                return [l for l in lines if l and l != line]
            if time.monotonic() > end:
                raise TimeoutError(f"{line}: no final result within {timeout} s; heard {self.heard!r}")
            self.heard += self.port.read(4096)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--ssid", default="atbridge-lab")
    ap.add_argument("--password", default="correct horse")
    ap.add_argument("--echo", required=True, help="HOST:PORT of a TCP echo server")
    args = ap.parse_args()
    host, tcp_port = args.echo.rsplit(":", 1)
    m = Module(args.port, args.baud)
    failures = 0

    def step(name, check):
        nonlocal failures
        try:
            detail = check()
            print(f"PASS {name}{': ' + detail if detail else ''}")
            return True
        except Exception as err:  # one line per failed step, as a test report
            failures += 1
            print(f"FAIL {name}: {err}")
            return False

    def alive():
        # A module that has just been powered loses what it hears before its banner: retry.
        for _ in range(8):
            try:
                if m.command("AT", timeout=0.5)[-1] == "OK":
                    return None
            except TimeoutError:
                pass
        raise TimeoutError("no OK to AT")

    def expect_ok(line, timeout=5.0):
        answer = m.command(line, timeout)
        if answer[-1] != "OK":
            raise RuntimeError(f"{line} -> {' / '.join(answer)}")
        return answer

    def join():
        answer = m.command(f'AT+CWJAP="{args.ssid}","{args.password}"', timeout=20)
        if answer[-1] != "OK":
            raise RuntimeError(" / ".join(answer))  # e.g. +CWJAP:2 / ERROR: wrong password

    def address():
        lines = expect_ok("AT+CIPSTA?")
        ip = next(l for l in lines if l.startswith("+CIPSTA:ip:")).split(":", 2)[2].strip('"')
        if ip == "0.0.0.0":
            raise RuntimeError("no address")
        return ip

    def round_trip():
        payload = b"hello from the firmware"
        answer = m.command(f'AT+CIPSTART="TCP","{host}",{tcp_port}', timeout=10)
        if answer[-1] != "OK":
            raise RuntimeError(" / ".join(answer))
        m.heard = b""
        m.port.write(f"AT+CIPSEND={len(payload)}\r".encode())
        m.until(b">")
        m.port.write(payload)
        m.until(b"SEND OK\r\n")
        heard = m.until(b"+IPD," + str(len(payload)).encode() + b":" + payload)
        # The module confirms the send before it reports the reply.
        if heard.index(b"SEND OK") > heard.index(b"+IPD,"):
            raise RuntimeError("+IPD before SEND OK")
        expect_ok("AT+CIPCLOSE")
        return f"{len(payload)} bytes echoed"

    if step("module answers", alive):
        step("echo off", lambda: expect_ok("ATE0") and None)
        step("station mode", lambda: expect_ok("AT+CWMODE=1") and None)
        if step("join Wi-Fi", join):
            step("station address", address)
            step("TCP round trip", round_trip)
    return failures


if __name__ == "__main__":
    sys.exit(main())
