import { describe, expect, it } from 'vitest';
import type { SocketLike } from '../../platform/index.js';
import { RegistrarSignaling } from './signaling.js';

const SID = '0b7c4f49-1d1e-4d0c-9d2f-9b1de1f7a001';

class FakeSocket extends EventTarget implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closed = false;
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }
  receive(message: unknown) {
    this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(message) }));
  }
}

describe('RegistrarSignaling', () => {
  it('speaks docs/signaling.md: offer, candidates, answer, hangup for its session only', async () => {
    const socket = new FakeSocket();
    const opening = RegistrarSignaling.open(socket);
    socket.open();
    const s = await opening;
    const answers: string[] = [];
    const candidates: unknown[] = [];
    const hangups: string[] = [];
    s.onAnswer((sdp) => answers.push(sdp));
    s.onCandidate((c) => candidates.push(c));
    s.onHangup((r) => hangups.push(r));

    // before the offer names the session, nothing is for it
    socket.receive({ type: 'answer', sdp: 'early' });
    socket.receive({ type: 'answer', sessionId: SID, sdp: 'early' });
    s.sendCandidate({ candidate: 'candidate:0', mid: '0' });
    expect(socket.sent).toEqual([]);

    s.sendOffer({ sessionId: SID, deviceId: 'd1', grant: 'g', sdp: 'v=0' });
    s.sendCandidate({ candidate: 'candidate:1', mid: '0' });
    s.sendConnected('host');
    expect(socket.sent).toEqual([
      { type: 'offer', deviceId: 'd1', grant: 'g', sdp: 'v=0' },
      { type: 'candidate', sessionId: SID, candidate: 'candidate:1', mid: '0' },
      { type: 'connected', sessionId: SID, path: 'host' },
    ]);

    socket.receive({ type: 'ready', userId: 'u', orgId: 'o' });
    socket.receive({ type: 'answer', sessionId: 'another', sdp: 'nope' });
    socket.receive({ type: 'answer', sessionId: SID, sdp: 'v=1' });
    socket.receive({ type: 'candidate', sessionId: SID, candidate: 'candidate:2', mid: null });
    socket.dispatchEvent(new MessageEvent('message', { data: '{not json' }));
    expect(answers).toEqual(['v=1']);
    expect(candidates).toEqual([{ candidate: 'candidate:2', mid: null }]);

    socket.receive({ type: 'hangup', sessionId: SID, reason: 'idle' });
    expect(hangups).toEqual(['idle']);
    expect(socket.closed).toBe(true);
  });

  it('a registrar refusal ends the session with its code; close() sends a hangup once', async () => {
    const socket = new FakeSocket();
    socket.readyState = 1;
    const s = await RegistrarSignaling.open(socket);
    const hangups: string[] = [];
    s.onHangup((r) => hangups.push(r));
    s.sendOffer({ sessionId: SID, deviceId: 'd1', grant: 'g', sdp: 'v=0' });
    socket.receive({ type: 'error', code: 'FORBIDDEN', message: 'no' });
    expect(hangups).toEqual(['FORBIDDEN']);

    const socket2 = new FakeSocket();
    socket2.readyState = 1;
    const s2 = await RegistrarSignaling.open(socket2);
    s2.sendOffer({ sessionId: SID, deviceId: 'd1', grant: 'g', sdp: 'v=0' });
    s2.close('bye');
    s2.close('again');
    expect(socket2.sent.filter((m) => m['type'] === 'hangup')).toEqual([
      { type: 'hangup', sessionId: SID, reason: 'bye' },
    ]);
    expect(socket2.closed).toBe(true);
  });

  it('close() before any offer sends no hangup', async () => {
    const socket = new FakeSocket();
    socket.readyState = 1;
    const s = await RegistrarSignaling.open(socket);
    s.close('grant refused');
    expect(socket.sent).toEqual([]);
    expect(socket.closed).toBe(true);
  });

  it('rejects when the socket fails before opening', async () => {
    const socket = new FakeSocket();
    const opening = RegistrarSignaling.open(socket);
    socket.dispatchEvent(new Event('error'));
    await expect(opening).rejects.toThrow(/signaling/);
  });
});
