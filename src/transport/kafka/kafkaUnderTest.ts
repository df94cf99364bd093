import { dropTransportStore } from '../dropTransportStore.js';
import { engineUnderTest } from '../testing/engineUnderTest.js';
import { SERVICE_URLS } from '../testing/services.js';
import { openKafkaTransport } from './kafkaTransport.js';

/** Kafka for the equivalence harness, on the test broker (`FRAMELOG_KAFKA_URL`, default 127.0.0.1:9092). */
export const kafkaUnderTest = engineUnderTest(
  'kafka',
  (store) => openKafkaTransport({ url: SERVICE_URLS.kafka, store }),
  (store) => dropTransportStore({ transport: 'kafka', url: SERVICE_URLS.kafka, store }),
);
