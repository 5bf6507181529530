// modem-checks: an Arduino sketch that drives a module with TinyGSM, unmodified, and prints one
// line per check:  CHECK <name> <pass|fail> <ms> <detail>   (NOTE lines say where TinyGSM itself
// is wrong and how the sketch works around it; DONE <passed>/<total> ends the run).
//
// Built with EpoxyDuino into a Linux program, once per TinyGSM modem class (the build defines
// TINY_GSM_MODEM_...); the serial port is a pty from `atbridge emulate --pty`.
//   modem-checks --port PATH --scenario main|no-sim|wrong-pin|no-network|wrong-password
//                --host 127.0.0.1 --echo-port N [--apn A] [--pin P] [--right-pin P]
//                [--ssid S] [--password W] [--send-limit N] [--network-timeout MS] [--start restart|init]
#include <Arduino.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Received data waits in TinyGSM's fifo until the sketch reads it. A module that pushes data
// (ESP-AT's +IPD, TinyGSM's "no modem buffer" classes) overflows a fifo smaller than what is in
// flight, and TinyGSM then parses the rest of the data as AT text: hold a whole large echo.
#define TINY_GSM_RX_BUFFER 16384
#include <TinyGsmClient.h>

#include "SerialPortStream.h"

namespace {

const size_t kLargeSize = 10240;  // above every module's single-send limit (1500, 2048, 8192)
const char kSmall[] = "hello from TinyGSM through the emulator\n";

SerialPortStream serialAT;
TinyGsm modem(serialAT);
int passed = 0;
int total = 0;

// The last --name VALUE wins, so a scenario's options override its family's.
const char* arg(const char* name, const char* fallback) {
  const char* value = fallback;
  for (int i = 1; i + 1 < epoxy_argc; i++) {
    if (strcmp(epoxy_argv[i], name) == 0) value = epoxy_argv[++i];
  }
  return value;
}

long numberArg(const char* name, long fallback) {
  const char* text = arg(name, nullptr);
  return text ? atol(text) : fallback;
}

// One line per check; a detail never breaks the line.
void check(const char* name, bool ok, unsigned long since, const String& detail) {
  String clean = detail;
  clean.replace("\r", " ");
  clean.replace("\n", " ");
  clean.trim();
  total++;
  if (ok) passed++;
  printf("CHECK %s %s %lu %s\n", name, ok ? "pass" : "fail", millis() - since, clean.c_str());
  fflush(stdout);
}

void note(const String& text) {
  printf("NOTE %s\n", text.c_str());
  fflush(stdout);
}

// getLocalIP() is TinyGSM's text; localIP() parses it leniently. A text that is not a bare
// address (SIM7600: "+IPADDR: 10.64.0.2", the answer's prefix left in) is TinyGSM's bug.
void localIpCheck() {
  unsigned long since = millis();
  String text = modem.getLocalIP();
  IPAddress ip = modem.localIP();
  IPAddress parsed;
  bool bare = parsed.fromString(text.c_str()) && parsed == ip;
  bool ok = ip != IPAddress(0, 0, 0, 0);
  if (ok && !bare) {
    note(String("TinyGSM's getLocalIP() returns \"") + text + "\", not the bare address: the sketch reads localIP(), which skips the prefix");
  }
  String shown = String(ip[0]) + "." + String(ip[1]) + "." + String(ip[2]) + "." + String(ip[3]);
  check("local-ip", ok, since, text.length() ? shown + " from \"" + text + "\"" : String("(empty)"));
}

bool allOf(const String& text, const char* allowed, unsigned minLength, unsigned maxLength) {
  if (text.length() < minLength || text.length() > maxLength) return false;
  for (unsigned i = 0; i < text.length(); i++) {
    if (!strchr(allowed, text[i])) return false;
  }
  return true;
}

bool start(const char* pin) {
  if (strcmp(arg("--start", "init"), "restart") == 0) return modem.restart(pin);
  return modem.init(pin);
}

// The most the module takes in one send (families.json has it from each manual).
size_t sendLimit() {
  return static_cast<size_t>(numberArg("--send-limit", 1460));
}

// Reads what the client has now. Asking read() for more than available() makes TinyGSM wait up
// to the stream timeout (1 s) for the rest.
bool readAvailable(TinyGsmClient& client, uint8_t* echo, size_t size, size_t* got) {
  int available = client.available();
  if (available <= 0) return false;
  size_t want = size - *got < static_cast<size_t>(available) ? size - *got : static_cast<size_t>(available);
  int r = client.read(echo + *got, want);
  if (r <= 0) return false;
  *got += static_cast<size_t>(r);
  return true;
}

// TinyGSM's write() hands the whole buffer to one AT send command, even when it is larger than
// the module takes in one (a real module answers ERROR): the sketch writes in pieces.
// One send through TinyGSM's client, or where TinyGSM's client cannot send, through the same AT
// commands sent by the sketch (the workaround is named in a NOTE line).
size_t writePiece(TinyGsmClient& client, const uint8_t* data, size_t size) {
#if defined(TINY_GSM_MODEM_A7672X)
  static bool said = false;
  if (!said) {
    note("TinyGSM's A7672X modemSend() waits for \"+CCHSEND: 0,0\" (the TLS send's result) after a TCP send's OK too, so every write() returns 0 after 10 s although the module sent the data: the sketch sends AT+CIPSEND itself and waits for +CIPSEND: 0,<len>,<len>");
    said = true;
  }
  (void)client;
  modem.sendAT(GF("+CIPSEND=0,"), static_cast<uint16_t>(size));
  if (modem.waitResponse(GF(">")) != 1) return 0;
  modem.stream.write(data, size);
  modem.stream.flush();
  if (modem.waitResponse() != 1) return 0;
  if (modem.waitResponse(10000L, GF("+CIPSEND: 0,")) != 1) return 0;
  String rest = modem.stream.readStringUntil('\n');
  int comma = rest.indexOf(',');
  return comma >= 0 ? static_cast<size_t>(rest.substring(comma + 1).toInt()) : 0;
#else
  return client.write(data, size);
#endif
}

size_t writeInPieces(TinyGsmClient& client, const uint8_t* data, size_t size, size_t limit, uint8_t* echo, size_t* got) {
  size_t sent = 0;
  while (sent < size) {
    size_t piece = size - sent < limit ? size - sent : limit;
    size_t n = writePiece(client, data + sent, piece);
    if (n != piece) return sent + n;
    sent += n;
    // Read what has come back meanwhile, as a sketch with a small buffer would.
    while (*got < size && readAvailable(client, echo, size, got)) continue;
  }
  return sent;
}

size_t readExactly(TinyGsmClient& client, uint8_t* echo, size_t size, size_t got, unsigned long timeoutMs) {
  unsigned long begin = millis();
  while (got < size && millis() - begin < timeoutMs) {
    if (!readAvailable(client, echo, size, &got)) delay(5);
  }
  return got;
}

String firstDifference(const uint8_t* a, const uint8_t* b, size_t size) {
  for (size_t i = 0; i < size; i++) {
    if (a[i] != b[i]) return String("first difference at byte ") + String((unsigned long)i);
  }
  return "byte-exact";
}

// Sends `size` bytes and expects the echo server to return exactly them.
void echoCheck(const char* name, TinyGsmClient& client, const uint8_t* data, size_t size) {
  unsigned long since = millis();
  size_t limit = sendLimit();
  uint8_t* echo = static_cast<uint8_t*>(calloc(size, 1));
  size_t got = 0;
  size_t sent = writeInPieces(client, data, size, limit, echo, &got);
  got = readExactly(client, echo, size, got, 20000);
  String detail = String("sent ") + String((unsigned long)sent) + "/" + String((unsigned long)size) + ", received " +
                  String((unsigned long)got);
  bool same = sent == size && got == size && memcmp(data, echo, size) == 0;
  if (sent == size && got == size) detail += String(", ") + firstDifference(data, echo, size);
  check(name, same, since, detail);
  free(echo);
}

void tcpChecks() {
  TinyGsmClient client(modem);
  const char* host = arg("--host", "127.0.0.1");
  uint16_t port = static_cast<uint16_t>(numberArg("--echo-port", 7));
  unsigned long since = millis();
  bool connected = client.connect(host, port);
  check("tcp-connect", connected, since, String(host) + ":" + String(port));

  echoCheck("tcp-small", client, reinterpret_cast<const uint8_t*>(kSmall), strlen(kSmall));

  // Every byte value, CR, LF, '+' and '>' included: none of it may be taken for AT text.
  static uint8_t large[kLargeSize];
  for (size_t i = 0; i < kLargeSize; i++) large[i] = static_cast<uint8_t>((i * 131 + (i >> 8)) & 0xff);
  size_t limit = sendLimit();
  if (kLargeSize > limit) {
    note(String("TinyGSM's client write() does not split data larger than the module's send limit (") + String((unsigned long)limit) +
         " bytes): the sketch writes " + String((unsigned long)kLargeSize) + " bytes in pieces");
  }
  echoCheck("tcp-large", client, large, kLargeSize);

  since = millis();
  client.stop();
  bool closed = !client.connected();
  check("tcp-close", closed, since, closed ? "stop(), connected() is false" : "still connected after stop()");
}

#if defined(TINY_GSM_MODEM_HAS_GPRS)

const char* simName(SimStatus status) {
  switch (status) {
    case SIM_READY: return "SIM_READY";
    case SIM_LOCKED: return "SIM_LOCKED";
    case SIM_ANTITHEFT_LOCKED: return "SIM_ANTITHEFT_LOCKED";
    default: return "SIM_ERROR";
  }
}

void cellularMain() {
  unsigned long since = millis();
  bool up = start(arg("--pin", nullptr));
  check("restart", up, since, String(arg("--start", "init")) + "()");

  since = millis();
  String info = modem.getModemInfo();
  check("modem-info", info.length() > 0, since, info);

  since = millis();
  String imei = modem.getIMEI();
  check("imei", allOf(imei, "0123456789", 15, 15), since, imei.length() ? imei : String("(empty)"));

  since = millis();
  SimStatus sim = modem.getSimStatus();
  check("sim-status", sim == SIM_READY, since, simName(sim));

  since = millis();
  String ccid = modem.getSimCCID();
  check("sim-ccid", allOf(ccid, "0123456789ABCDEF", 18, 22), since, ccid.length() ? ccid : String("(empty)"));

  since = millis();
  String imsi = modem.getIMSI();
  check("imsi", allOf(imsi, "0123456789", 6, 15), since, imsi.length() ? imsi : String("(empty)"));

  since = millis();
  int16_t csq = modem.getSignalQuality();
  check("signal", csq >= 0 && csq <= 31, since, String("CSQ ") + String(csq));

  since = millis();
  bool network = modem.waitForNetwork(numberArg("--network-timeout", 30000)) && modem.isNetworkConnected();
  check("network", network, since, network ? "registered" : "not registered in time");

  since = millis();
  String oper = modem.getOperator();
  check("operator", oper.length() > 0, since, oper.length() ? oper : String("(empty)"));

  since = millis();
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  float zone = 0;
  bool clock = modem.getNetworkTime(&year, &month, &day, &hour, &minute, &second, &zone);
  bool valid = clock && year >= 2000 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
  char when[48];
  snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d:%02d zone %+.2f h", year, month, day, hour, minute, second, zone);
  check("clock", valid, since, clock ? String(when) : String("getNetworkTime() false"));

  since = millis();
  bool gprs = modem.gprsConnect(arg("--apn", "internet")) && modem.isGprsConnected();
  check("gprs-connect", gprs, since, arg("--apn", "internet"));

  localIpCheck();

  tcpChecks();

  since = millis();
  bool down = modem.gprsDisconnect();
  bool off = !modem.isGprsConnected();
  check("gprs-disconnect", down && off, since, down ? (off ? "disconnected" : "still connected") : "gprsDisconnect() false");
}

void noSim() {
  unsigned long since = millis();
  bool up = modem.init();
  check("init-fails", !up, since, up ? "init() true without a SIM" : "init() false");
  since = millis();
  SimStatus sim = modem.getSimStatus(3000);
  check("sim-status-error", sim == SIM_ERROR, since, simName(sim));
}

void wrongPin() {
  unsigned long since = millis();
  bool up = modem.init(arg("--pin", "0000"));
  check("init-fails", !up, since, up ? "init() true with a wrong PIN" : "init() false");
  since = millis();
  bool refused = !modem.simUnlock(arg("--pin", "0000"));
  check("unlock-wrong-pin", refused, since, refused ? "simUnlock() false" : "simUnlock() true with a wrong PIN");
  since = millis();
  SimStatus sim = modem.getSimStatus(3000);
  check("sim-locked", sim == SIM_LOCKED, since, simName(sim));
  since = millis();
  bool unlocked = modem.simUnlock(arg("--right-pin", "1234"));
  sim = modem.getSimStatus(3000);
  check("unlock-right-pin", unlocked && sim == SIM_READY, since, String(unlocked ? "simUnlock() true, " : "simUnlock() false, ") + simName(sim));
}

void noNetwork() {
  unsigned long since = millis();
  bool up = modem.init(arg("--pin", nullptr));
  check("init", up, since, up ? "init() true" : "init() false");
  since = millis();
  bool network = modem.waitForNetwork(numberArg("--network-timeout", 5000));
  check("network-timeout", !network, since, network ? "waitForNetwork() true with no network" : "waitForNetwork() false");
  since = millis();
  int status = static_cast<int>(modem.getRegistrationStatus());
  check("registration-searching", status == REG_SEARCHING || status == REG_UNREGISTERED, since, String("status ") + String(status));
}

#endif

#if defined(TINY_GSM_MODEM_HAS_WIFI)

void wifiMain() {
  unsigned long since = millis();
  bool up = start(nullptr);
  check("restart", up, since, String(arg("--start", "init")) + "()");

  since = millis();
  String info = modem.getModemInfo();
  check("modem-info", info.length() > 0, since, info);

  since = millis();
  bool joined = modem.networkConnect(arg("--ssid", ""), arg("--password", ""));
  check("wifi-join", joined, since, arg("--ssid", ""));

  since = millis();
  bool network = modem.waitForNetwork(numberArg("--network-timeout", 30000)) && modem.isNetworkConnected();
  check("network", network, since, network ? "connected" : "not connected in time");

  since = millis();
  int16_t rssi = modem.getSignalQuality();
  check("signal", rssi < 0 && rssi >= -120, since, String("RSSI ") + String(rssi));

  localIpCheck();

  tcpChecks();

  since = millis();
  bool down = modem.networkDisconnect();
  bool off = !modem.isNetworkConnected();
  check("wifi-disconnect", down && off, since, down ? (off ? "disconnected" : "still connected") : "networkDisconnect() false");
}

void wrongPassword() {
  unsigned long since = millis();
  bool up = modem.init();
  check("init", up, since, up ? "init() true" : "init() false");
  // networkConnect() ends a failed join only on "FAIL" (ESP8266 AT 1.x); ESP-AT 2.x ends it with
  // "ERROR", so networkConnect() returns false only after 2 x 30 s. The sketch sends the same
  // command through TinyGSM's sendAT/waitResponse and also accepts ERROR.
  note("TinyGSM's networkConnect() waits for FAIL (ESP8266 AT 1.x) and not ERROR (ESP-AT 2.x): a refused join takes 60 s; the sketch sends AT+CWJAP itself and also accepts ERROR");
  since = millis();
  modem.sendAT(GF("+CWJAP=\""), arg("--ssid", ""), GF("\",\""), arg("--password", ""), GF("\""));
  String answer;
  int8_t result = modem.waitResponse(30000L, answer, GF("OK\r\n"), GF("ERROR\r\n"), GF("\r\nFAIL\r\n"));
  bool refused = (result == 2 || result == 3) && answer.indexOf("+CWJAP:2") >= 0;
  check("wifi-wrong-password", refused, since, result == 1 ? String("joined") : answer);
  since = millis();
  bool network = modem.isNetworkConnected();
  check("not-connected", !network, since, network ? "isNetworkConnected() true" : "isNetworkConnected() false");
}

#endif

struct Scenario {
  const char* name;
  void (*run)();
};

const Scenario kScenarios[] = {
#if defined(TINY_GSM_MODEM_HAS_GPRS)
    {"main", cellularMain},
    {"no-sim", noSim},
    {"wrong-pin", wrongPin},
    {"no-network", noNetwork},
#endif
#if defined(TINY_GSM_MODEM_HAS_WIFI)
    {"main", wifiMain},
    {"wrong-password", wrongPassword},
#endif
};

}  // namespace

void setup() {
  const char* port = arg("--port", nullptr);
  const char* scenario = arg("--scenario", "main");
  if (!port) {
    fprintf(stderr, "modem-checks: --port PATH is required\n");
    exit(2);
  }
  if (!serialAT.open(port, static_cast<unsigned long>(numberArg("--baud", 115200)))) {
    fprintf(stderr, "modem-checks: cannot open %s: %s\n", port, strerror(errno));
    exit(2);
  }
  for (const Scenario& s : kScenarios) {
    if (strcmp(s.name, scenario) == 0) {
      s.run();
      printf("DONE %d/%d\n", passed, total);
      fflush(stdout);
      exit(0);
    }
  }
  fprintf(stderr, "modem-checks: this modem class has no scenario \"%s\"\n", scenario);
  exit(2);
}

void loop() {}
