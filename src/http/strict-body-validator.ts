/**
 * A validator compiler for routes with a JSON body: the body is checked
 * WITHOUT type coercion, the rest as fastify does by default. fastify's ajv
 * has `coerceTypes: 'array'`, which is right for a query string (everything
 * there is text) but turns a JSON `{"dry_run": null}` or `0` into `false`,
 * so a caller's typo ran a cleanup for real. A JSON body already has types:
 * a wrong one is a 400 naming the field (api-errors.ts's schemaProblem).
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

const buildCompiler = AjvCompiler();
/** fastify's own defaults (coercion included), for the query, params and headers. */
const coercing = buildCompiler({}, { customOptions: {} });
const strict = buildCompiler({}, { customOptions: { coerceTypes: false } });

export const strictBodyValidator: FastifySchemaCompiler<FastifySchema> = (route) =>
  route.httpPart === 'body' ? strict(route) : coercing(route);
