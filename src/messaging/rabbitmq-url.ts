/** The AMQP URL from RABBITMQ_URL, or from the seed's RABBITMQ_HOST/PORT/USER/PASSWORD (apart from the driver: reading it loads no AMQP client). */
export function rabbitMqUrl(s: { RABBITMQ_URL?: string; RABBITMQ_HOST: string; RABBITMQ_PORT: number; RABBITMQ_USER: string; RABBITMQ_PASSWORD: string }): string {
  if (s.RABBITMQ_URL) return s.RABBITMQ_URL;
  return `amqp://${encodeURIComponent(s.RABBITMQ_USER)}:${encodeURIComponent(s.RABBITMQ_PASSWORD)}@${s.RABBITMQ_HOST}:${s.RABBITMQ_PORT}/`;
}
