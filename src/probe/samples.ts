/** One sampler result, the unit of JMeter's result file (one JTL row). */
export interface Sample {
  /** JMeter's label: `MQTT Connect`, `MQTT Pub q1`, `MQTT Sub q1`. */
  label: string;
  /** Start of the sample, epoch milliseconds. */
  timeStamp: number;
  /** Connect: to CONNACK; publish: to PUBACK/PUBCOMP (QoS 0: written); receive: the delay. */
  elapsed: number;
  latency: number;
  /** TCP connect time (connect samples), else 0. */
  connect: number;
  success: boolean;
  responseCode: string;
  responseMessage: string;
  failureMessage: string;
  /** Bytes received (the payload, for receive samples). */
  bytes: number;
  /** Bytes sent (the PUBLISH packet, for publish samples). */
  sentBytes: number;
  threadName: string;
  grpThreads: number;
  allThreads: number;
  url: string;
}

/** Collects samples for --jtl and --html (kept only when an output asks for them). */
export class SampleLog {
  readonly samples: Sample[] = [];
  constructor(readonly enabled: boolean) {}
  add(sample: Sample): void {
    if (this.enabled) this.samples.push(sample);
  }
}
