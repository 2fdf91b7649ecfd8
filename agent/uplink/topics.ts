/** SPEC "MQTT": every topic hangs under {topicPrefix}/{agentId}. */
export function topics(prefix: string, agentId: string) {
  const root = prefix ? `${prefix}/${agentId}` : agentId;
  return {
    root,
    data: `${root}/data`,
    status: `${root}/status`,
    configSet: `${root}/config/set`,
    configState: `${root}/config/state`,
    cmd: `${root}/cmd`,
    cmdResult: `${root}/cmd/result`,
  };
}
export type Topics = ReturnType<typeof topics>;
