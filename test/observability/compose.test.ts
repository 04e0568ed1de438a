/**
 * deploy/docker-compose.yml: every file it mounts exists, every service it
 * names exists, and the ports agree across the compose file, the Prometheus
 * scrape config, the Alertmanager target, the Grafana data sources and the
 * posguard commands. (No docker here: this reads the files.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const COMPOSE_FILE = `${DEPLOY}docker-compose.yml`;

interface Service {
  image?: string;
  entrypoint?: string[];
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: unknown;
}
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks?: { default?: { ipam?: { config?: { subnet?: string }[] } } };
};
const services = compose.services;
const names = Object.keys(services);

/** host:port → [host, port] for "host:port", "http://host:port/path". */
function hostPort(s: string): [string, number] {
  const m = /^(?:\w+:\/\/)?([^:/]+):(\d+)/.exec(s);
  if (m === null) throw new Error(`no host:port in ${s}`);
  return [m[1], Number(m[2])];
}

/** Container ports a service publishes (the ports it listens on inside the network). */
function containerPorts(name: string): Set<number> {
  return new Set((services[name].ports ?? []).map((p) => Number(String(p).split(':').pop())));
}

function flag(cmd: string[] | undefined, f: string): string | undefined {
  const i = (cmd ?? []).indexOf(f);
  return i >= 0 ? cmd![i + 1] : undefined;
}

describe('deploy/docker-compose.yml', () => {
  it('has the services of the stack', () => {
    for (const s of ['kafka', 'apicurio', 'clickhouse', 'prometheus', 'alertmanager', 'grafana', 'detector', 'simulator']) expect(names).toContain(s);
  });

  it('every bind-mounted file or folder exists; every named volume is declared', () => {
    let binds = 0;
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0];
        if (source.startsWith('.') || source.startsWith('/')) {
          binds++;
          expect(existsSync(resolve(DEPLOY, source)), `${name}: ${source} does not exist`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes), `${name}: volume ${source} not declared`).toContain(source);
        }
      }
    }
    expect(binds).toBeGreaterThanOrEqual(9);
  });

  it('depends_on names existing services', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(names, `${name} depends on ${d}`).toContain(d);
    }
  });

  it('host ports are unique', () => {
    // "8123:8123" or "127.0.0.1:8123:8123": the host port is the one before the container port.
    const host = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => String(p).split(':').slice(-2)[0]));
    expect(new Set(host).size).toBe(host.length);
  });

  it('Prometheus scrapes the detector on its metrics port, and sends to Alertmanager on its port', () => {
    const prom = parse(readFileSync(`${DEPLOY}prometheus/prometheus.yml`, 'utf8')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'posguard')!;
    const [dHost, dPort] = hostPort(job.static_configs[0].targets[0]);
    expect(names).toContain(dHost);
    expect(Number(flag(services[dHost].command, '--metrics-port'))).toBe(dPort);
    expect(containerPorts(dHost)).toContain(dPort);
    const [aHost, aPort] = hostPort(prom.alerting.alertmanagers[0].static_configs[0].targets[0]);
    expect(names).toContain(aHost);
    expect(containerPorts(aHost)).toContain(aPort);
    // The rule files Prometheus loads are mounted next to its config.
    const promMounts = services.prometheus.volumes!.map((v) => v.split(':')[1]);
    for (const f of prom.rule_files) expect(promMounts).toContain(`/etc/prometheus/${f}`);
    expect(promMounts).toContain(flag(services.prometheus.command?.map((c) => c.split('=')).flat(), '--config.file'));
  });

  it('Grafana: the data sources point at the ClickHouse and Prometheus services, with every variable set', () => {
    const g = services.grafana;
    const env = g.environment!;
    const ds = readFileSync(`${DEPLOY}grafana/provisioning/datasources/posguard.yml`, 'utf8');
    for (const m of ds.matchAll(/\$\{(\w+)\}/g)) expect(Object.keys(env), `grafana needs ${m[1]}`).toContain(m[1]);
    expect(names).toContain(String(env.CLICKHOUSE_HOST));
    expect(containerPorts(String(env.CLICKHOUSE_HOST))).toContain(Number(env.CLICKHOUSE_HTTP_PORT));
    const [pHost, pPort] = hostPort(String(env.PROMETHEUS_URL));
    expect(pHost).toBe('prometheus');
    expect(containerPorts(pHost)).toContain(pPort);
    expect(env.GF_INSTALL_PLUGINS).toContain('grafana-clickhouse-datasource');
    // The provisioning's dashboard path is where the dashboards are mounted, and the home dashboard is one of them.
    const prov = readFileSync(`${DEPLOY}grafana/provisioning/dashboards/posguard.yml`, 'utf8');
    const path = /path: (\S+)/.exec(prov)![1];
    const mount = g.volumes!.find((v) => v.startsWith('../dashboards:'))!.split(':')[1];
    expect(mount).toBe(path);
    const home = String(env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH);
    expect(dirname(home)).toBe(path);
    expect(existsSync(`${DEPLOY}../dashboards/${home.split('/').pop()}`)).toBe(true);
  });

  it('the posguard services reach Kafka, the registry and ClickHouse on the ports those services listen on', () => {
    const kafkaEnv = services.kafka.environment!;
    const listeners = String(kafkaEnv.KAFKA_ADVERTISED_LISTENERS).split(',').map((l) => hostPort(l));
    const internal = listeners.find(([h]) => h === 'kafka')!;
    for (const name of ['detector', 'simulator', 'topics']) {
      const s = services[name];
      const brokers = flag(s.command, '--brokers') ?? flag(s.command, '--kafka')!;
      expect(hostPort(brokers), name).toEqual(internal);
      const reg = flag(s.command, '--registry');
      if (reg !== undefined) {
        const [h, p] = hostPort(reg);
        expect(h).toBe('apicurio');
        expect(containerPorts(h)).toContain(p);
      }
      const env = s.environment!;
      const [ch, chPort] = hostPort(String(env.CLICKHOUSE_URL));
      expect(names).toContain(ch);
      expect(containerPorts(ch)).toContain(chPort);
      expect(hostPort(String(env.KAFKA_BROKERS))).toEqual(internal);
    }
    // The ClickHouse users the stack logs in as exist in deploy/clickhouse/users.d, with their password from the environment.
    const users = readFileSync(`${DEPLOY}clickhouse/users.d/posguard.xml`, 'utf8');
    expect(users).toContain(`<${services.detector.environment!.CLICKHOUSE_USER}>`);
    expect(users).toContain(`<${services.grafana.environment!.CLICKHOUSE_USER}>`);
    for (const m of users.matchAll(/from_env="(\w+)"/g)) expect(Object.keys(services.clickhouse.environment!)).toContain(m[1]);
  });

  it('only the detector and migrate write to ClickHouse; Grafana and sql read as the read-only analyst', () => {
    const noComments = (xml: string) => xml.replace(/<!--[\s\S]*?-->/g, '');
    const block = (xml: string, tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1] ?? '';
    const users = noComments(readFileSync(`${DEPLOY}clickhouse/users.d/posguard.xml`, 'utf8'));
    // The analyst the stack reads as is read-only in the users file.
    expect(block(block(users, 'users'), 'analyst')).toContain('<profile>posguard_analyst</profile>');
    expect(block(block(users, 'profiles'), 'posguard_analyst')).toMatch(/<readonly>[12]<\/readonly>/);
    const userOf = (name: string) => String(services[name].environment?.CLICKHOUSE_USER);
    const writers = names.filter((n) => userOf(n) === 'posguard_writer');
    expect(writers.sort()).toEqual(['detector', 'migrate']);
    // Nobody else holds the writer's password but the server that checks it (install, topics, the simulator need no ClickHouse).
    for (const n of names.filter((x) => !writers.includes(x) && x !== 'clickhouse')) expect(JSON.stringify(services[n].environment ?? {}), n).not.toContain('POSGUARD_WRITER_PASSWORD');
    expect(userOf('grafana')).toBe('analyst');
    expect(userOf('sql')).toBe('analyst');
    expect(String(services.sql.environment?.CLICKHOUSE_PASSWORD)).toContain('POSGUARD_ANALYST_PASSWORD');
    expect(services.sql.entrypoint).toEqual(['node', 'bin/posguard.js', 'sql']);
    expect(services.sql.entrypoint).not.toContain('--write');
    expect(services.sql.profiles).toEqual(['tools']);
    for (const n of names) expect(services[n].command ?? [], n).not.toContain('--write');
  });

  it('the ClickHouse users accept connections from their own hosts only', () => {
    const noComments = (xml: string) => xml.replace(/<!--[\s\S]*?-->/g, '');
    const networks = (xml: string, user: string) => new RegExp(`<${user}>[\\s\\S]*?<networks[^>]*>([\\s\\S]*?)</networks>`).exec(noComments(xml))?.[1].match(/<(ip|host)>[^<]+<\/\1>/g) ?? [];
    const base = readFileSync(`${DEPLOY}clickhouse/users.d/posguard.xml`, 'utf8');
    expect(base).not.toContain('::/0');
    expect(networks(base, 'posguard_writer')).toEqual(['<ip>127.0.0.1</ip>', '<ip>::1</ip>']);
    expect(networks(base, 'analyst')).toEqual(['<ip>127.0.0.1</ip>', '<ip>::1</ip>']);
    // The stack widens them with its own file, mounted next to the users file.
    const mount = services.clickhouse.volumes!.find((v) => v.startsWith('./clickhouse/networks/'))!;
    expect(mount.split(':')[1]).toMatch(/^\/etc\/clickhouse-server\/users\.d\/.+\.xml$/);
    const stack = readFileSync(resolve(DEPLOY, mount.split(':')[0]), 'utf8');
    expect(stack).toMatch(/<posguard_writer>\s*<networks replace="replace">/);
    expect(stack).toMatch(/<analyst>\s*<networks replace="replace">/);
    // Writer: exactly the services that log in as the writer.
    const writerHosts = networks(stack, 'posguard_writer').map((x) => /<host>([^<]+)</.exec(x)?.[1]);
    expect(writerHosts.sort()).toEqual(names.filter((n) => services[n].environment?.CLICKHOUSE_USER === 'posguard_writer').sort());
    // Analyst: the stack's own subnet, and ClickHouse is published on this host's loopback only.
    const subnet = compose.networks?.default?.ipam?.config?.[0]?.subnet;
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    expect(networks(stack, 'analyst')).toEqual([`<ip>${subnet}</ip>`]);
    expect(services.clickhouse.ports).toEqual(['127.0.0.1:8123:8123']);
  });

  it('Alertmanager mounts the routing tree the tests check', () => {
    const am = services.alertmanager;
    expect(am.volumes).toContain('./alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro');
    expect(am.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
  });
});
