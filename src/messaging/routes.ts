/**
 * Messaging endpoints of the seed API: publish a message, and the bus status (with the outbox
 * backlog and consumer lag). Published messages go through the outbox, so they are accepted (202)
 * even while the broker is down and delivered when it is back.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BODY_LIMITS, anyObject, declare, errorResponses, view } from '../server/route-kit.js';
import { auditContextOf } from '../server/principal.js';
import type { Messaging } from './messaging.js';

export interface MessagingRouteDeps {
  messaging: Pick<Messaging, 'status' | 'queue' | 'type' | 'topics' | 'bus'>;
  /** MESSAGE_MAX_BYTES: the body limit of a publish */
  maxMessageBytes: number;
}

const publishBody = z.strictObject({
  topic: z.string().min(1).describe('logical topic: patient_data, imaging_data, alerts, predictions, model_events, …'),
  message: z.unknown().describe('any JSON value; up to MESSAGE_MAX_BYTES once serialised'),
  key: z.string().min(1).max(256).optional().describe('messages with one key keep their order'),
});

export function messagingPlugin(s: MessagingRouteDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['messaging'];

    app.post(
      '/api/v1/mlops/messaging/publish',
      {
        ...declare('messaging:publish', Math.max(BODY_LIMITS.json, s.maxMessageBytes + 4096)),
        schema: {
          tags,
          summary: 'Publish a message to a topic (through the outbox: accepted while the broker is down, delivered when it is back)',
          body: publishBody,
          response: {
            202: view({ status: z.literal('accepted'), message_id: z.string(), topic: z.string(), broker_topic: z.string(), queue_type: z.string(), delivery: z.string() }),
            ...errorResponses(400, 413),
          },
        },
      },
      async (req, reply) => {
        const receipt = await s.messaging.queue.enqueue(req.body.topic, req.body.message, { key: req.body.key ?? null, audit: auditContextOf(req) });
        return reply.code(202).send({ status: 'accepted' as const, ...receipt, queue_type: s.messaging.type, delivery: 'outbox' });
      },
    );

    app.get(
      '/api/v1/mlops/messaging/status',
      {
        ...declare('messaging:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Broker connection, topics, outbox backlog and consumer lag',
          response: { 200: view({ queue_type: z.string(), connected: z.boolean(), outbox: view({ depth: z.number() }), consumers: z.array(anyObject) }), ...errorResponses() },
        },
      },
      async () => s.messaging.status(),
    );

    app.get(
      '/api/v1/mlops/messaging/dead-letters',
      {
        ...declare('messaging:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: "A look at a consumer group's dead letters (messages that failed every attempt), oldest first",
          querystring: z.object({ topic: z.string().min(1), group: z.string().min(1), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
          response: { 200: z.object({ topic: z.string(), broker_topic: z.string(), group: z.string(), dead_letters: z.array(anyObject) }), ...errorResponses() },
        },
      },
      async (req) => {
        const { topic, group, limit } = req.query;
        const brokerTopic = s.messaging.topics.brokerName(topic);
        return { topic, broker_topic: brokerTopic, group, dead_letters: (await s.messaging.bus.deadLetters(brokerTopic, group, limit)) as unknown as Array<Record<string, unknown>> };
      },
    );
  };
}
