// The bundled CLI's stand-in for the `debug` package (mqtt-packet's tracing, off unless DEBUG is set):
// loading the real one pulls in tty and util before the first packet can be sent.
module.exports = function createDebug() {
  const log = () => {};
  log.enabled = false;
  return log;
};
