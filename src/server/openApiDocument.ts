import { maxMessageLength } from '../dialogue/dialogueEngine.js';

const error = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const bearer = [{ conversationToken: [] }];
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** The REST contract, served at /api/openapi.json. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'WeChat wallet unbinding support bot',
    version: '1.0.0',
    description:
      `Every error is {"error": {"code", "message"}}. Message text is at most ${maxMessageLength} characters of well-formed UTF-8 without control characters; request bodies at most 16 KB. ` +
      'Requests per client address and messages per conversation are rate-limited: 429 with Retry-After (seconds). Every response carries X-Request-Id.',
  },
  components: {
    securitySchemes: { conversationToken: { type: 'http', scheme: 'bearer', description: 'The token returned when the conversation was created.' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
      },
      QuickReply: { type: 'object', required: ['title', 'payload'], properties: { title: { type: 'string' }, payload: { type: 'string', description: 'Send as text to choose it, e.g. /affirm' } } },
      Reply: {
        type: 'object',
        required: ['id', 'text'],
        properties: {
          id: { type: 'string', description: 'The response this reply renders, from intents/responses/ (e.g. unbind.step2); stable when the wording changes', example: 'unbind.step2' },
          text: { type: 'string' },
          quickReplies: { type: 'array', items: { $ref: '#/components/schemas/QuickReply' } },
        },
      },
      Intent: { type: 'object', required: ['name', 'confidence'], properties: { name: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } } },
      Progress: { type: ['object', 'null'], properties: { step: { type: 'integer' }, total: { type: 'integer' } } },
      Turn: {
        type: 'object',
        required: ['replies', 'intent', 'state'],
        properties: {
          replies: { type: 'array', items: { $ref: '#/components/schemas/Reply' } },
          intent: { $ref: '#/components/schemas/Intent' },
          state: { type: 'string', example: 'unbinding.openPay' },
          progress: { $ref: '#/components/schemas/Progress' },
          handoff: { type: ['object', 'null'], description: 'Set on the turn the conversation was handed to a human', properties: { reason: { type: 'string' }, step: { type: 'integer' } } },
          event: { type: 'string', description: 'The dialogue event the message became, e.g. user.affirm (for QA coverage)' },
          askRating: { type: 'boolean', description: 'The bot answered or finished: offer the helpful / not helpful rating' },
        },
      },
    },
  },
  paths: {
    '/api/conversations': {
      post: {
        summary: 'Start a conversation',
        responses: {
          201: {
            description: 'Created; keep the token, every later call on this conversation needs it.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'token'],
                  properties: { id: { type: 'string' }, token: { type: 'string' }, replies: { type: 'array', items: { $ref: '#/components/schemas/Reply' } } },
                },
              },
            },
          },
        },
      },
    },
    '/api/conversations/{id}': {
      get: {
        summary: 'The transcript (secrets redacted) and where the conversation stands',
        security: bearer,
        parameters: [idParameter],
        responses: {
          200: { description: 'Transcript' },
          401: errorResponse('No token'),
          403: errorResponse('Token of another conversation'),
          404: errorResponse('No such conversation'),
        },
      },
    },
    '/api/conversations/{id}/messages': {
      post: {
        summary: 'Send one user message and get the bot’s turn',
        security: bearer,
        parameters: [idParameter],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['text'],
                additionalProperties: false,
                properties: {
                  text: { type: 'string', minLength: 1, maxLength: maxMessageLength },
                  displayText: { type: 'string', description: 'Title of the clicked quick reply, shown in the transcript instead of its payload' },
                },
              },
            },
          },
        },
        responses: {
          200: { description: 'The bot’s turn', content: { 'application/json': { schema: { $ref: '#/components/schemas/Turn' } } } },
          400: errorResponse('Malformed JSON, body not UTF-8 (invalid_utf8), missing/empty/non-string text, unpaired surrogate (invalid_unicode), control characters, unknown field'),
          401: errorResponse('No token'),
          403: errorResponse('Token of another conversation'),
          404: errorResponse('No such conversation'),
          413: errorResponse(`Text over ${maxMessageLength} characters or body over 16 KB`),
          415: errorResponse('Not application/json'),
          429: errorResponse('Too many messages in this conversation or requests from this address (rate_limited); see Retry-After'),
          503: errorResponse('The database could not save the turn (storage_unavailable); nothing was saved, send it again after Retry-After'),
        },
      },
    },
    '/api/conversations/{id}/rating': {
      post: {
        summary: 'Rate the bot’s answer: helpful or not (one tap in the widget)',
        security: bearer,
        parameters: [idParameter],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['helpful'], additionalProperties: false, properties: { helpful: { type: 'boolean' } } } } } },
        responses: { 204: { description: 'Recorded' }, 400: errorResponse('Not {"helpful": boolean}'), 401: errorResponse('No token'), 403: errorResponse('Wrong token'), 404: errorResponse('No such conversation') },
      },
    },
    '/api/parse': {
      post: {
        summary: 'Classify a text without a conversation (like Rasa’s /model/parse)',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } } } },
        responses: { 200: { description: '{ intent, ranking, ambiguousBetween, entities, secrets }' }, 400: errorResponse('Bad text'), 413: errorResponse('Too long') },
      },
    },
    '/healthz': { get: { summary: 'Liveness and database check', responses: { 200: { description: 'ok' } } } },
  },
} as const;
