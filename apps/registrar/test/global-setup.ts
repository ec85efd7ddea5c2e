// Where the registrar's integration tests find PostgreSQL and Mosquitto, decided once per
// run (Vitest globalSetup, before the test workers start; they inherit the environment):
//
// - PEERFETCH_TEST_DATABASE_URL / PEERFETCH_TEST_MQTT_URL set: those services.
// - Otherwise, with a container runtime (a Docker or Podman socket, found by testcontainers
//   11): fresh `postgres:16-alpine` and `eclipse-mosquitto:2` containers for this run,
//   removed afterwards.
// - Otherwise (this machine and its CI: no container engine): the local services,
//   PostgreSQL on 127.0.0.1:5432 (database `test`) and Mosquitto on 127.0.0.1:1883.
//
// PEERFETCH_TEST_CONTAINERS=never skips the container attempt; =always makes a missing
// runtime an error. Nothing here skips a test: a service that is not there fails the tests
// that need it, with its address in the error. (The private Mosquitto children of
// test/mosquitto-broker.ts are local processes in every case: the tests kill and pause them.)
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import {
  GenericContainer,
  type StartedTestContainer,
  Wait,
  getContainerRuntimeClient,
} from 'testcontainers';

const LOCAL = {
  database: 'postgresql://postgres@127.0.0.1:5432/test',
  mqtt: 'mqtt://127.0.0.1:1883',
};

type Mode = 'auto' | 'never' | 'always';

function mode(): Mode {
  const value = process.env['PEERFETCH_TEST_CONTAINERS'] ?? 'auto';
  if (value === 'auto' || value === 'never' || value === 'always') return value;
  throw new Error(`PEERFETCH_TEST_CONTAINERS must be auto, never or always (got "${value}")`);
}

async function containerRuntime(required: boolean): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch (error) {
    if (required) {
      throw new Error(
        `PEERFETCH_TEST_CONTAINERS=always but no container runtime: ${(error as Error).message}`,
      );
    }
    return false;
  }
}

async function startContainers(): Promise<{
  database: string;
  mqtt: string;
  stop: () => Promise<void>;
}> {
  const started: StartedTestContainer[] = [];
  try {
    const postgres = await new PostgreSqlContainer('postgres:16-alpine')
      .withDatabase('test')
      .withUsername('postgres')
      .withPassword('postgres')
      .start();
    started.push(postgres);
    const mosquitto = await new GenericContainer('eclipse-mosquitto:2')
      .withCopyContentToContainer([
        {
          content: 'listener 1883\nallow_anonymous true\npersistence false\n',
          target: '/mosquitto/config/mosquitto.conf',
        },
      ])
      .withExposedPorts(1883)
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    started.push(mosquitto);
    return {
      database: postgres.getConnectionUri(),
      mqtt: `mqtt://${mosquitto.getHost()}:${mosquitto.getMappedPort(1883)}`,
      stop: async () => {
        await Promise.all(started.map((c) => c.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((c) => c.stop().catch(() => undefined)));
    throw error;
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const given = {
    database: process.env['PEERFETCH_TEST_DATABASE_URL'],
    mqtt: process.env['PEERFETCH_TEST_MQTT_URL'],
  };
  const m = mode();
  let stop = (): Promise<void> => Promise.resolve();
  let source = 'given by PEERFETCH_TEST_DATABASE_URL / PEERFETCH_TEST_MQTT_URL';
  let services = { database: given.database ?? LOCAL.database, mqtt: given.mqtt ?? LOCAL.mqtt };
  if (given.database === undefined && given.mqtt === undefined) {
    source = 'local services (no container runtime)';
    if (m === 'never') source = 'local services (PEERFETCH_TEST_CONTAINERS=never)';
    else if (await containerRuntime(m === 'always')) {
      const containers = await startContainers();
      services = containers;
      stop = containers.stop;
      source = 'testcontainers (postgres:16-alpine, eclipse-mosquitto:2)';
    }
  }
  process.env['PEERFETCH_TEST_DATABASE_URL'] = services.database;
  process.env['PEERFETCH_TEST_MQTT_URL'] = services.mqtt;
  process.env['PEERFETCH_TEST_SERVICES'] = source;
  const where = (url: string) => {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  };
  console.log(
    `registrar tests: PostgreSQL ${where(services.database)}, Mosquitto ${where(services.mqtt)} — ${source}`,
  );
  return stop;
}
