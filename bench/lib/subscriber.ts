import mqtt from 'mqtt';

/**
 * Counts what arrives on a topic without parsing whole batches (`"point":` once per reading):
 * the bench's subscriber must not be the bottleneck it measures.
 */
export async function countingSubscriber(url: string, topic: string) {
  const client = await mqtt.connectAsync(url, { clean: true });
  const s = { first: 0, readings: 0, bytes: 0, batches: 0, close: () => client.endAsync() };
  client.on('message', (_t, p) => {
    if (!s.first) s.first = performance.now();
    s.batches++;
    s.bytes += p.length;
    let i = -1;
    while ((i = p.indexOf('"point":', i + 1)) !== -1) s.readings++;
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return s;
}
