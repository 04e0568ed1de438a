/**
 * prom-client counts process CPU from the moment its collector is registered,
 * and the kernel charges user time in ticks: a fast test can read a true 0.
 * Spin until at least `ms` of user time has been charged to this process.
 */
export function chargeUserCpu(ms = 20): void {
  const since = process.cpuUsage().user;
  while (process.cpuUsage().user - since < ms * 1000) { /* spin */ }
}
