/**
 * Messaging endpoints of the seed API: publish a message, and the bus status (with the outbox
 * backlog and consumer lag). Published messages go through the outbox, so they are accepted (202)
 * even while the broker is down and delivered when it is back.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../server/app.js';

const publishBody = z.object({
  topic: z.string().min(1).describe('logical topic: patient_data, imaging_data, alerts, predictions, model_events, …'),
  message: z.unknown().describe('any JSON value; up to MESSAGE_MAX_BYTES once serialised'),
  key: z.string().min(1).max(256).optional().describe('messages with one key keep their order'),
});

export function messagingRoutes(s: Services): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['messaging'];

    app.post(
      '/api/v1/mlops/messaging/publish',
      { schema: { tags, summary: 'Publish a message to a topic (through the outbox: accepted while the broker is down, delivered when it is back)', body: publishBody } },
      async (req, reply) => {
        const receipt = await s.messaging.queue.enqueue(req.body.topic, req.body.message, { key: req.body.key ?? null });
        return reply.code(202).send({ status: 'accepted', ...receipt, queue_type: s.messaging.type, delivery: 'outbox' });
      },
    );

    app.get(
      '/api/v1/mlops/messaging/status',
      { schema: { tags, summary: 'Broker connection, topics, outbox backlog and consumer lag' } },
      async () => s.messaging.status(),
    );

    app.get(
      '/api/v1/mlops/messaging/dead-letters',
      {
        schema: {
          tags,
          summary: "A look at a consumer group's dead letters (messages that failed every attempt), oldest first",
          querystring: z.object({ topic: z.string().min(1), group: z.string().min(1), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        },
      },
      async (req) => {
        const { topic, group, limit } = req.query;
        const brokerTopic = s.messaging.topics.brokerName(topic);
        return { topic, broker_topic: brokerTopic, group, dead_letters: await s.messaging.bus.deadLetters(brokerTopic, group, limit) };
      },
    );
  };
}
