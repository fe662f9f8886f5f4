/**
 * The OpenAPI transform: fastify-type-provider-zod's, plus upload operations. A route that reads a
 * multipart body declares its fields as `schema.multipart` (a zod object; file fields described as
 * binary strings); the document shows them as a `multipart/form-data` request body beside any JSON
 * body. Fastify never validates `multipart` (the handler streams the parts and checks them itself).
 * A route that answers other media types than JSON lists them per status in `schema.mediaTypes`
 * (e.g. `{ 200: ['application/octet-stream'] }` for bytes, `{ 200: ['application/json', 'text/html'] }`
 * for a report in either form): the document shows exactly those.
 */
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/** A file field of a multipart body, for `schema.multipart`. */
export const fileField = (description: string) => z.string().meta({ format: 'binary' }).describe(description);

type RouteSchema = Record<string, unknown> & { multipart?: z.ZodType; body?: z.ZodType; jsonBody?: z.ZodType; mediaTypes?: Record<number, string[]> };

export function openApiTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const schema = input.schema as RouteSchema | undefined;
  const mediaTypes = schema?.mediaTypes;
  if (!mediaTypes) return uploads(input);
  const { mediaTypes: _m, ...rest } = schema;
  const out = uploads({ ...input, schema: rest } as TransformInput);
  const response = ((out.schema as Record<string, unknown>).response ?? {}) as Record<string, unknown>;
  for (const [status, types] of Object.entries(mediaTypes)) {
    const declared = (response[status] ?? {}) as Record<string, unknown> & { description?: string };
    const { description, ...json } = declared;
    const content: Record<string, { schema: unknown }> = {};
    for (const type of types) content[type] = { schema: type === 'application/json' ? json : type.startsWith('text/') ? { type: 'string' } : { type: 'string', format: 'binary' } };
    response[status] = { description: description ?? 'the response', content };
  }
  return out;
}

function uploads(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const schema = input.schema as RouteSchema | undefined;
  const multipart = schema?.multipart;
  if (!schema || !multipart) return jsonSchemaTransform(input);
  // jsonBody: a JSON body the handler validates itself (the route also takes multipart)
  const { multipart: _m, jsonBody, ...others } = schema;
  const { body: declaredBody, ...rest } = others;
  const body = declaredBody ?? jsonBody;
  const out = jsonSchemaTransform({ ...input, schema: { ...rest, ...(body ? { body } : {}) } } as TransformInput);
  const transformed = out.schema as Record<string, unknown>;
  const content: Record<string, { schema: unknown }> = { 'multipart/form-data': { schema: z.toJSONSchema(multipart, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) } };
  if (transformed.body) content['application/json'] = { schema: transformed.body };
  transformed.body = { content };
  return out;
}
