import { replyPictures } from '../content/schemas.js';
import { clientMessageIdPattern, maxMessageLength } from '../dialogue/dialogueEngine.js';

const error = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const bearer = [{ conversationToken: [] }];
const agentAuth = [{ agentToken: [] }];
const adminAuth = [{ adminToken: [] }];
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const json = (schema: object) => ({ 'application/json': { schema } });
const agentErrors = {
  401: errorResponse('No agent token, an unknown one, or a disabled agent’s (missing_token, invalid_token)'),
  404: errorResponse('The conversation was never handed over (conversation_not_found)'),
};
const conversationRef = { $ref: '#/components/schemas/AgentConversation' };
const tone = {
  enum: ['warning'],
  description: 'Present only on a reply to be shown differently: `warning` is the bot saying it hid a secret the user typed (a code, a card number …)',
};
const picture = {
  enum: [...replyPictures],
  description: 'Present only on an unbinding step (or its help): the picture of that step’s WeChat screen to draw inside the message, with the spot to tap highlighted. `step6Menu` is step 6 with the “…” menu highlighted',
};

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
    securitySchemes: {
      conversationToken: { type: 'http', scheme: 'bearer', description: 'The token returned when the conversation was created.' },
      agentToken: { type: 'http', scheme: 'bearer', description: 'An agent’s own token (agt_<id>_<secret>), shown once when the agent is created.' },
      adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN.' },
    },
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
          tone,
          picture,
        },
      },
      Line: {
        type: 'object',
        required: ['role', 'text', 'at', 'seq'],
        description: 'A transcript line, secrets already redacted. seq numbers the lines of a conversation 1, 2, …',
        properties: {
          role: { enum: ['user', 'bot', 'agent'] },
          text: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          seq: { type: 'integer', minimum: 1 },
          agentName: { type: 'string', description: 'On agent lines: the name users see' },
          quickReplies: { type: 'array', items: { $ref: '#/components/schemas/QuickReply' } },
          tone: { ...tone, description: `On bot lines: ${tone.description}` },
          picture: { ...picture, description: `On bot lines: ${picture.description}` },
        },
      },
      Handoff: {
        type: ['object', 'null'],
        description: 'The conversation’s latest handover, or null when it was never handed over',
        required: ['status', 'serviceHours', 'available'],
        properties: {
          status: { enum: ['waiting', 'assigned', 'resolved'] },
          position: { type: 'integer', description: 'While waiting: how many are ahead (0 = next)' },
          agentName: { type: 'string', description: 'While assigned' },
          serviceHours: { type: 'string', example: '09:00-21:00', description: 'SERVICE_HOURS, in SERVICE_TIMEZONE' },
          available: { type: 'boolean', description: 'Inside the service hours with an agent online now' },
        },
      },
      AgentConversation: {
        type: 'object',
        required: ['id', 'status', 'waitingSince', 'reason', 'step'],
        properties: {
          id: { type: 'string', description: 'The conversation id' },
          status: { enum: ['waiting', 'assigned', 'resolved'] },
          waitingSince: { type: 'string', format: 'date-time' },
          reason: { enum: ['user_request', 'verification_failed', 'repeated_fallback', 'unbind_failed'] },
          step: { type: 'integer', description: 'Unbinding step reached, 0 outside the steps' },
          agent: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
          transcript: { type: 'array', items: { $ref: '#/components/schemas/Line' }, description: 'In GET /api/agent/conversations/{id} and the claim' },
          suggestion: {
            type: 'object',
            description: 'The article’s answer to the user’s last message, in the user’s script (never for what the article does not cover)',
            properties: { responseId: { type: 'string', example: 'faq.rebind' }, text: { type: 'string' } },
          },
        },
      },
      AgentMessage: {
        type: 'object',
        required: ['role', 'agentName', 'text', 'at', 'seq'],
        properties: { role: { const: 'agent' }, agentName: { type: 'string' }, text: { type: 'string' }, at: { type: 'string', format: 'date-time' }, seq: { type: 'integer' } },
      },
      Script: {
        enum: ['hans', 'hant-tw', 'hant-hk'],
        description:
          'The script and wording the replies are in: simplified, or traditional with Taiwan wording (簡訊, 軟體) or Hong Kong wording (短訊, 軟件). ' +
          'Traditional from the greeting on when the conversation’s locale reads it (zh-TW, zh-HK, zh-MO, zh-Hant…), and whenever the user writes traditional; ' +
          'Hong Kong wording when the locale is of Hong Kong or Macau. Show the client’s own labels in the same script.',
      },
      Intent: { type: 'object', required: ['name', 'confidence'], properties: { name: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } } },
      Progress: {
        type: ['object', 'null'],
        description:
          'The guided unbinding: null outside it and at the balance question before step 1. While it runs status is active; on the one turn it ends, status says how, ' +
          'and the next turn has null again (GET /api/conversations/{id} reports what the last turn reported). Draw a bar from completed / total: ' +
          'verification and confirmation are step 7, so completed reaches total only when the unbinding is done.',
        required: ['step', 'total', 'completed', 'phase', 'status'],
        properties: {
          step: { type: 'integer', minimum: 1, description: 'The numbered step the user is on (or was on when it ended), as before: 第 {step} / {total} 步' },
          total: { type: 'integer', const: 7, description: 'The article’s 7 steps; the 7th holds the security verification and the final confirmation' },
          completed: { type: 'integer', minimum: 0, description: 'Steps finished: step − 1 while running (0 at step 1), total when done' },
          phase: {
            enum: ['steps', 'verification', 'confirmation'],
            description: 'steps: tapping through the app (steps 1–6); verification: the security verification of step 7; confirmation: verification passed or not asked for, the user confirms the unbinding',
          },
          status: {
            enum: ['active', 'done', 'cancelled', 'handed_off', 'stopped'],
            description:
              'active while it runs; on the turn it ends: done (unbound), cancelled (the user stopped it), handed_off (the conversation went to a human), ' +
              'stopped (a human was asked for but no ticket could be opened now, handoff.busy)',
          },
        },
      },
      UserMessage: {
        type: 'object',
        required: ['seq', 'text', 'redacted'],
        description: 'The user’s message as the transcript keeps it: show this in the user’s own bubble instead of what was typed',
        properties: {
          seq: { type: 'integer', minimum: 1, description: 'The line’s seq in the transcript' },
          text: { type: 'string', description: 'As stored: secrets redacted ([验证码], [卡号] …); for a clicked quick reply, its displayText' },
          redacted: { type: 'boolean', description: 'Redaction changed the message (something secret was hidden)' },
        },
      },
      Turn: {
        type: 'object',
        required: ['replies', 'intent', 'state', 'script', 'userMessage', 'duplicate'],
        properties: {
          replies: { type: 'array', items: { $ref: '#/components/schemas/Reply' } },
          intent: { $ref: '#/components/schemas/Intent' },
          state: { type: 'string', example: 'unbinding.openPay' },
          script: { $ref: '#/components/schemas/Script' },
          progress: { $ref: '#/components/schemas/Progress' },
          handoff: { type: ['object', 'null'], description: 'Set on the turn the conversation was handed to a human', properties: { reason: { type: 'string' }, step: { type: 'integer' } } },
          event: { type: 'string', description: 'The dialogue event the message became, e.g. user.affirm (for QA coverage)' },
          askRating: { type: 'boolean', description: 'The bot answered or finished: offer the helpful / not helpful rating' },
          answerSeq: { type: ['integer', 'null'], description: 'With askRating: the transcript seq of the answer to send back with the rating' },
          answerIndex: { type: ['integer', 'null'], description: 'With askRating: which of replies that answer is (an FAQ asked mid-flow is followed by a step reminder), to show the rating under it' },
          deliveredToAgent: { type: 'boolean', description: 'An agent holds the conversation: the message went to the agent; no bot reply (but a warning about a secret)' },
          userMessage: { $ref: '#/components/schemas/UserMessage' },
          duplicate: {
            type: 'boolean',
            description:
              'The clientMessageId had been taken already: no turn was taken, and this is the first answer again (replies are the bot lines that followed the message; state, progress, event, askRating and answerSeq as that turn left them)',
          },
        },
      },
    },
  },
  paths: {
    '/api/conversations': {
      post: {
        summary: 'Start a conversation',
        requestBody: {
          required: false,
          description: 'Optional: no body at all starts a simplified conversation, as before',
          content: json({
            type: 'object',
            additionalProperties: false,
            properties: {
              locale: {
                type: 'string',
                maxLength: 35,
                example: 'zh-TW',
                description: 'The user’s BCP 47 locale (the widget sends navigator.language), kept in canonical form. zh-TW, zh-HK, zh-MO and zh-Hant… are greeted in traditional; zh-HK and zh-MO get Hong Kong wording',
              },
            },
          }),
        },
        responses: {
          400: errorResponse('The body is not a JSON object, has unknown fields (invalid_body), or locale is not a BCP 47 tag of at most 35 characters (invalid_locale)'),
          415: errorResponse('A body that is not application/json'),
          429: errorResponse('Too many new conversations from this address or from everyone (rate_limited); see Retry-After'),
          201: {
            description: 'Created; keep the token, every later call on this conversation needs it.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'token', 'script'],
                  properties: {
                    id: { type: 'string' },
                    token: { type: 'string' },
                    script: { $ref: '#/components/schemas/Script' },
                    replies: { type: 'array', items: { $ref: '#/components/schemas/Reply' }, description: 'The greeting, in that script' },
                  },
                },
              },
            },
          },
        },
      },
    },
    '/api/conversations/{id}': {
      delete: {
        summary: 'Delete the conversation and everything kept of it (transcript, turns, tickets, ratings, queued webhook deliveries); the token stops working',
        security: bearer,
        parameters: [idParameter],
        responses: { 204: { description: 'Deleted' }, 401: errorResponse('No token, or it expired'), 403: errorResponse('Token of another conversation'), 404: errorResponse('No such conversation') },
      },
      get: {
        summary: 'The transcript (secrets redacted), where the conversation stands, and its handover',
        security: bearer,
        parameters: [idParameter, { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'Only the lines after this seq' }],
        responses: {
          200: {
            description: 'Transcript',
            content: json({
              type: 'object',
              required: ['id', 'transcript', 'state', 'script', 'handoff'],
              properties: {
                id: { type: 'string' },
                transcript: { type: 'array', items: { $ref: '#/components/schemas/Line' } },
                state: { type: 'string' },
                script: { $ref: '#/components/schemas/Script', description: 'The script the next reply will be in (the last turn’s, or the locale’s before any)' },
                progress: { $ref: '#/components/schemas/Progress' },
                handoff: { $ref: '#/components/schemas/Handoff' },
              },
            }),
          },
          400: errorResponse('after is not a whole number (invalid_after)'),
          401: errorResponse('No token'),
          403: errorResponse('Token of another conversation'),
          404: errorResponse('No such conversation'),
        },
      },
    },
    '/api/conversations/{id}/messages': {
      post: {
        summary: 'Send one user message and get the bot’s turn',
        description:
          'With a clientMessageId, sending the same message again is safe (a retry after a timeout, a queue resent after reconnecting): a message whose id this conversation has already taken is answered 200 with that turn again and `duplicate: true`, takes no turn and does not count against the conversation’s rate limit. Of several sends at once, exactly one takes the turn. Without one, every send is a new message.',
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
                  clientMessageId: {
                    type: 'string',
                    pattern: clientMessageIdPattern.source,
                    minLength: 1,
                    maxLength: 64,
                    description: 'The client’s own id for this message (a UUID fits), unique within the conversation: a resend with it is answered from the first send',
                  },
                },
              },
            },
          },
        },
        responses: {
          200: { description: 'The bot’s turn', content: { 'application/json': { schema: { $ref: '#/components/schemas/Turn' } } } },
          400: errorResponse(
            'Malformed JSON, body not UTF-8 (invalid_utf8), missing/empty/non-string text, unpaired surrogate (invalid_unicode), control characters, unknown field, or a clientMessageId that is not 1 to 64 of A-Z a-z 0-9 _ - (invalid_body)',
          ),
          401: errorResponse('No token (missing_token), or the conversation was idle longer than TOKEN_IDLE_DAYS (token_expired): start a new one'),
          403: errorResponse('Token of another conversation'),
          404: errorResponse('No such conversation (never created, deleted by its owner or an admin, or past RETENTION_DAYS)'),
          413: errorResponse(`Text over ${maxMessageLength} characters or body over 16 KB`),
          415: errorResponse('Not application/json'),
          429: errorResponse('Too many messages in this conversation or requests from this address (rate_limited); see Retry-After'),
          503: errorResponse('The database could not save the turn (storage_unavailable); nothing was saved, send it again after Retry-After'),
        },
      },
    },
    '/api/conversations/{id}/rating': {
      post: {
        summary: 'Rate one of the bot’s answers: helpful or not (one tap in the widget). One rating per answer: rating it again replaces the first',
        security: bearer,
        parameters: [idParameter],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['helpful'],
            additionalProperties: false,
            properties: { helpful: { type: 'boolean' }, answerSeq: { type: 'integer', minimum: 1, description: 'The answer rated (a turn’s answerSeq); without it, the latest answer' } },
          }),
        },
        responses: {
          204: { description: 'Recorded' },
          400: errorResponse('Not {"helpful": boolean, "answerSeq"?: integer}'),
          401: errorResponse('No token'),
          403: errorResponse('Wrong token'),
          404: errorResponse('No such conversation, or answerSeq is not a bot answer of it (answer_not_found)'),
          409: errorResponse('The bot has not answered anything yet (nothing_to_rate)'),
        },
      },
    },
    '/api/parse': {
      post: {
        summary: 'Classify a text without a conversation (like Rasa’s /model/parse)',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } } } },
        responses: { 200: { description: '{ intent, ranking, ambiguousBetween, entities, secrets }' }, 400: errorResponse('Bad text'), 413: errorResponse('Too long') },
      },
    },
    '/api/admin/conversations/{id}': {
      delete: {
        summary: 'Delete a conversation on its user’s request (PIPL): every row, with the bytes overwritten in the database file',
        security: adminAuth,
        parameters: [idParameter],
        responses: { 204: { description: 'Deleted' }, 401: errorResponse('No admin token'), 403: errorResponse('Not the admin token'), 404: errorResponse('No such conversation') },
      },
    },
    '/api/admin/analytics': {
      get: {
        summary: 'Deflection, resolution, funnel, verification, top intents, unanswered questions and handoff figures for conversations created in [from, to] (UTC days)',
        security: adminAuth,
        parameters: [
          { name: 'from', in: 'query', schema: { type: 'string', format: 'date', example: '2026-11-01' }, description: 'First day; default 29 days before today' },
          { name: 'to', in: 'query', schema: { type: 'string', format: 'date', example: '2026-11-30' }, description: 'Last day, inclusive; default today, and a later day reads up to today (9999-12-31 for everything)' },
        ],
        responses: {
          200: {
            description:
              'The figures. `unanswered` lists at most 100 groups of similar messages, grouped from the newest 20 000 unanswered messages of the range; `unansweredMessages` says how many the range held (`total`) and how many were grouped (`considered`).',
          },
          400: errorResponse('Not a date like 2026-11-27, a day the calendar does not have (2024-02-30, 2024-13-01), or from after to (invalid_range); the message names the value'),
          401: errorResponse('No admin token'),
          403: errorResponse('Not the admin token'),
          503: errorResponse('Analytics is already computing many ranges (analytics_busy); ask again after Retry-After seconds'),
        },
      },
    },
    '/api/admin/tickets': {
      get: {
        summary: 'Handoff tickets with their redacted transcripts, newest first, a page at a time',
        security: adminAuth,
        parameters: [
          { name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'closed', 'all'], default: 'open' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, description: 'Tickets per page' },
          { name: 'before', in: 'query', schema: { type: 'integer', minimum: 1 }, description: 'The `nextBefore` of the previous page: only tickets with a smaller id' },
        ],
        responses: {
          200: {
            description: 'One page',
            content: json({
              type: 'object',
              required: ['tickets', 'total', 'nextBefore'],
              properties: {
                tickets: { type: 'array', items: { type: 'object' } },
                total: { type: 'integer', description: 'Tickets with this status in all' },
                nextBefore: { type: ['integer', 'null'], description: 'Pass as `before` for the next (older) page; null on the last page' },
              },
            }),
          },
          400: errorResponse('Bad status (invalid_status), or limit/before not a whole number in range (invalid_page)'),
          401: errorResponse('No admin token'),
          403: errorResponse('Not the admin token'),
        },
      },
    },
    '/api/admin/agents': {
      post: {
        summary: 'Create an agent; the token is shown once (only its scrypt hash is kept)',
        security: adminAuth,
        requestBody: { required: true, content: json({ type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 40, example: '小林' } } }) },
        responses: {
          201: { description: 'Created', content: json({ type: 'object', required: ['id', 'name', 'token'], properties: { id: { type: 'string' }, name: { type: 'string' }, token: { type: 'string' } } }) },
          400: errorResponse('No name (invalid_name)'),
          401: errorResponse('No admin token'),
          403: errorResponse('Not the admin token'),
        },
      },
      get: {
        summary: 'The agents',
        security: adminAuth,
        responses: {
          200: {
            description: 'Agents',
            content: json({
              type: 'object',
              properties: { agents: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string' }, disabled: { type: 'boolean' }, lastSeenAt: { type: ['string', 'null'] } } } } },
            }),
          },
        },
      },
    },
    '/api/admin/agents/{id}/disable': {
      post: { summary: 'Disable an agent: their token stops working (401)', security: adminAuth, parameters: [idParameter], responses: { 200: { description: 'Disabled' }, 404: errorResponse('No such agent (agent_not_found)') } },
    },
    '/api/agent/conversations': {
      get: {
        summary: 'The inbox: handed-over conversations with this status (waiting ones oldest first)',
        security: agentAuth,
        parameters: [{ name: 'status', in: 'query', schema: { enum: ['waiting', 'assigned', 'resolved'], default: 'waiting' } }],
        responses: {
          200: { description: 'Conversations', content: json({ type: 'object', properties: { conversations: { type: 'array', items: conversationRef } } }) },
          400: errorResponse('Unknown status (invalid_status)'),
          401: agentErrors[401],
        },
      },
    },
    '/api/agent/conversations/{id}': {
      get: { summary: 'One conversation with its redacted transcript and the suggested reply', security: agentAuth, parameters: [idParameter], responses: { 200: { description: 'Conversation', content: json(conversationRef) }, ...agentErrors } },
    },
    '/api/agent/conversations/{id}/claim': {
      post: {
        summary: 'Take the conversation: of concurrent claims exactly one wins',
        security: agentAuth,
        parameters: [idParameter],
        responses: { 200: { description: 'Claimed (or already yours)', content: json(conversationRef) }, ...agentErrors, 409: errorResponse('Another agent holds it (already_claimed), or it is resolved (already_resolved)') },
      },
    },
    '/api/agent/conversations/{id}/messages': {
      post: {
        summary: 'Write to the user (checked like user text, redacted before it is stored); pushed live to the widget',
        security: agentAuth,
        parameters: [idParameter],
        requestBody: { required: true, content: json({ type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: maxMessageLength } } }) },
        responses: {
          201: { description: 'Stored and sent', content: json({ type: 'object', properties: { message: { $ref: '#/components/schemas/AgentMessage' } } }) },
          400: errorResponse('Empty, non-string or malformed text'),
          ...agentErrors,
          409: errorResponse('Nobody holds it (not_assigned) or another agent does (not_assigned_to_you)'),
          413: errorResponse('Too long'),
          429: errorResponse('Too many messages (rate_limited)'),
        },
      },
    },
    '/api/agent/conversations/{id}/typing': {
      post: { summary: 'Show the agent’s typing indicator in the widget', security: agentAuth, parameters: [idParameter], responses: { 204: { description: 'Sent' }, ...agentErrors, 409: errorResponse('Not yours') } },
    },
    '/api/agent/conversations/{id}/handback': {
      post: { summary: 'Hand the conversation back to the bot; the user is told', security: agentAuth, parameters: [idParameter], responses: { 200: { description: 'Handed back', content: json(conversationRef) }, ...agentErrors, 409: errorResponse('Another agent holds it, or it is resolved') } },
    },
    '/api/agent/conversations/{id}/resolve': {
      post: { summary: 'Resolve: the user is told, and the bot answers the next message', security: agentAuth, parameters: [idParameter], responses: { 200: { description: 'Resolved', content: json(conversationRef) }, ...agentErrors, 409: errorResponse('Another agent holds it, or it is resolved') } },
    },
    '/api/agent/events': {
      get: {
        summary: 'Live inbox events (server-sent events; keeps the agent online; a heartbeat comment every 15 s)',
        description: 'Events conversation.waiting, conversation.claimed, conversation.resolved, message.created (a user or agent line), typing (the user is typing); each `data:` is JSON with conversationId.',
        security: agentAuth,
        responses: { 200: { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: agentErrors[401] },
      },
    },
    '/healthz': { get: { summary: 'Liveness and database check', responses: { 200: { description: 'ok' } } } },
  },
} as const;
