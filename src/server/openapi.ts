/**
 * The OpenAPI transform: fastify-type-provider-zod's, plus upload operations. A route that reads a
 * multipart body declares its fields as `schema.multipart` (a zod object; file fields described as
 * binary strings); the document shows them as a `multipart/form-data` request body beside any JSON
 * body. Fastify never validates `multipart` (the handler streams the parts and checks them itself).
 * A route that answers raw bytes names their media type per status in `schema.binaryResponses`
 * (e.g. `{ 200: 'application/octet-stream' }`): the document then says so instead of JSON.
 */
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/** A file field of a multipart body, for `schema.multipart`. */
export const fileField = (description: string) => z.string().meta({ format: 'binary' }).describe(description);

type RouteSchema = Record<string, unknown> & { multipart?: z.ZodType; body?: z.ZodType; jsonBody?: z.ZodType; binaryResponses?: Record<number, string> };

export function openApiTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const schema = input.schema as RouteSchema | undefined;
  const binary = schema?.binaryResponses;
  if (!binary) return uploads(input);
  const { binaryResponses: _b, ...rest } = schema;
  const out = uploads({ ...input, schema: rest } as TransformInput);
  const response = ((out.schema as Record<string, unknown>).response ?? {}) as Record<string, unknown>;
  for (const [status, mediaType] of Object.entries(binary)) {
    const declared = (response[status] ?? {}) as { description?: string };
    response[status] = { description: declared.description ?? 'the bytes', content: { [mediaType]: { schema: { type: 'string', format: 'binary' } } } };
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
