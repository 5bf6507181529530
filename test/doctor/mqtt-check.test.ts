import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLiveDoctor } from '../../src/doctor/live/run-live.js';
import { MqttClient } from '../../src/mqtt/client.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tcp } from '../mqtt/support.js';

// doctor --broker: a real CONNECT through the emulated module to a real mosquitto with a password file.
let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto({ auth: { username: 'gw', password: 'right-pw' } });
});
afterAll(async () => {
  await broker?.stop();
});

async function doctor(mqtt: { username?: string; password?: string; clientId?: string }) {
  const r = await runLiveDoctor({
    device: 'emu:sim7600?pacing=0',
    baud: 115200,
    profile: 'auto',
    probeTimeoutMs: 120,
    probes: 1,
    mqtt: { broker: { host: broker.host, port: broker.port }, watchMs: 1500, keepalive: 10, ...mqtt },
  });
  return { check: r.checks.find((c) => c.name === 'mqtt'), ids: r.findings.map((f) => f.id), findings: r.findings };
}

describe('doctor --broker', () => {
  it('accepted credentials: the MQTT check passes', async () => {
    const r = await doctor({ username: 'gw', password: 'right-pw' });
    expect(r.check?.status).toBe('pass');
    expect(r.ids).not.toContain('mqtt-connect-refused');
  });

  it('refused credentials: mqtt-connect-refused, and the password is not in the evidence', async () => {
    const r = await doctor({ username: 'gw', password: 'wrong-pw' });
    expect(r.ids).toContain('mqtt-connect-refused');
    expect(JSON.stringify(r.findings)).not.toContain('wrong-pw');
  });

  it('another client with the same id: client-id-conflict', async () => {
    const other = new MqttClient({ connect: tcp(broker.port), clientId: 'gateway-7', username: 'gw', password: 'right-pw', reconnect: { baseMs: 100, capMs: 200 } });
    other.on('error', () => {});
    await other.start();
    try {
      const r = await doctor({ username: 'gw', password: 'right-pw', clientId: 'gateway-7' });
      expect(r.ids).toContain('client-id-conflict');
    } finally {
      await other.end(true);
    }
  });
});
