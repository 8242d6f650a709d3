import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A handoff webhook receiver on loopback that answers 204 and keeps every body it was sent. */
export interface RecordingWebhook {
  url: string;
  delivered: string[];
  close(): Promise<void>;
}

export async function startRecordingWebhook(): Promise<RecordingWebhook> {
  const delivered: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      delivered.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tickets`,
    delivered,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
