// How fastify uses the routes' zod schemas: to validate (and type) what comes in, and to serialize what goes out.
import { isDeepStrictEqual } from 'node:util';
import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import type { z } from 'zod';
import { describeIssues } from '../ingest/validate.js';
import { badParameter } from './params.js';

/** A request body that fails its schema; `issues` are `path: problem` lines. */
export class InvalidBody extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid body: ${issues[0]}`);
    this.name = 'InvalidBody';
  }
}

/** Body schemas that document a body its handler validates itself (a report: a slice at a time, see ingest/validate.ts). */
const validatedByHandler = new WeakSet<z.ZodType>();

export function documentedOnly<T extends z.ZodType>(schema: T): T {
  validatedByHandler.add(schema);
  return schema;
}

/** Query and path parameters fail as a BadParameter naming the parameter; a body as an InvalidBody. */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  if (httpPart === 'body' && validatedByHandler.has(schema)) return (data) => ({ value: data });
  return (data) => validate(schema, httpPart, data);
};

function validate(schema: z.ZodType, httpPart: string | undefined, data: unknown) {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data };
  return { error: httpPart === 'body' ? new InvalidBody(describeIssues(result.error)) : badParameter(schema, result.error) };
}

/** Responses are built by handlers typed against their schemas: written as fastify writes them without schemas. */
export const serializerCompiler: FastifySerializerCompiler<z.ZodType> = () => (data) => JSON.stringify(data);

/**
 * For tests: every response must parse under its schema and come out unchanged, so a field that is missing,
 * mistyped or undeclared fails the request (500) instead of slipping past the OpenAPI document.
 */
export const checkingSerializerCompiler: FastifySerializerCompiler<z.ZodType> = ({ schema, method, url, httpStatus }) => (data) => {
  const json = JSON.stringify(data);
  const sent: unknown = JSON.parse(json);
  const parsed = schema.safeParse(sent);
  if (!parsed.success) {
    throw new Error(`${method} ${url} ${httpStatus}: the response does not match its schema: ${describeIssues(parsed.error).join('; ')}`);
  }
  if (!isDeepStrictEqual(parsed.data, sent)) throw new Error(`${method} ${url} ${httpStatus}: the response has fields its schema does not declare`);
  return json;
};
