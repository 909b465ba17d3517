/**
 * Input checks the admin routes share. fastify's ajv is set up with
 * `removeAdditional: true`, which silently DROPS fields a schema does not
 * know (even with additionalProperties: false); an admin request with a
 * misspelt field (`dryrun`) must not run as if the field were absent, so
 * unknown fields are refused here, before validation, with a 400 naming them.
 */
import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { sendBadRequest } from './api-errors.js';

type Part = 'body' | 'query';

/** Refuses unknown keys of the body or query; an absent body is an empty object (every field is optional). */
export function onlyKnownFields(part: Part, known: readonly string[]): preValidationAsyncHookHandler {
  return async function checkFields(request: FastifyRequest, reply: FastifyReply) {
    if (part === 'body' && (request.body === undefined || request.body === null)) request.body = {};
    const value = request[part];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const unknown = Object.keys(value).find((key) => !known.includes(key));
    if (unknown === undefined) return;
    const where = part === 'body' ? 'field' : 'query parameter';
    const knownList = known.length > 0 ? `known: ${known.join(', ')}` : 'none are accepted';
    return sendBadRequest(reply, {
      field: unknown,
      message: `${unknown} is not a known ${where} (${knownList})`,
    });
  };
}

/** The keys of a JSON schema's properties, for onlyKnownFields. */
export function propertiesOf(schema: { properties: Record<string, unknown> }): string[] {
  return Object.keys(schema.properties);
}
