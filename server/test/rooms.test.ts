import { describe, expect, it } from 'vitest';
import { Rooms } from '../src/rooms.ts';

function seatOf(result: ReturnType<Rooms<string>['join']>) {
  if (!result.ok) throw new Error(`join refused: ${result.code}`);
  return result;
}

describe('Rooms: seats', () => {
  it('seats the first joiner in seat 0 (initiator) and the second in seat 1 (responder)', () => {
    const rooms = new Rooms<string>(10);
    const a = seatOf(rooms.join('room', 'modern', 'alice', 't-alice'));
    expect(a.seat).toMatchObject({ index: 0, peer: 'alice', tokenHash: 't-alice' });
    expect(a.partner).toBeUndefined();
    const b = seatOf(rooms.join('room', 'modern', 'bob', 't-bob'));
    expect(b.seat).toMatchObject({ index: 1, peer: 'bob' });
    expect(b.partner).toBe(a.seat);
  });

  it('refuses a third joiner with room-full', () => {
    const rooms = new Rooms<string>(10);
    rooms.join('room', 'des', 'alice', 't1');
    rooms.join('room', 'des', 'bob', 't2');
    expect(rooms.join('room', 'des', 'carol', 't3')).toEqual({ ok: false, code: 'room-full' });
  });

  it('the first joiner fixes the suite: the other one gets suite-mismatch', () => {
    const rooms = new Rooms<string>(10);
    rooms.join('room', 'modern', 'alice', 't1');
    expect(rooms.join('room', 'des', 'bob', 't2')).toMatchObject({
      ok: false,
      code: 'suite-mismatch',
      occupant: { index: 0, peer: 'alice' },
      otherVersion: false,
    });
  });

  it('the first joiner fixes the version too: another one gets suite-mismatch, as another version', () => {
    const rooms = new Rooms<string>(10);
    rooms.join('room', 'modern', 'alice', 't1', 2);
    expect(rooms.join('room', 'modern', 'bob', 't2')).toMatchObject({
      ok: false,
      code: 'suite-mismatch',
      occupant: { index: 0, peer: 'alice' },
      otherVersion: true,
    });
    expect(rooms.join('room', 'modern', 'bob', 't2', 2)).toMatchObject({ ok: true });
  });

  it('a held occupant has no connection to be told', () => {
    const rooms = new Rooms<string>(10);
    const a = seatOf(rooms.join('room', 'modern', 'alice', 't1', 2));
    rooms.hold(a.room, a.seat);
    expect(rooms.join('room', 'modern', 'bob', 't2', 1)).toMatchObject({
      ok: false,
      code: 'suite-mismatch',
      occupant: { index: 0, peer: undefined },
      otherVersion: true,
    });
  });

  it('a released seat is taken by the next joiner, and a room with no seat taken is deleted', () => {
    const rooms = new Rooms<string>(10);
    const a = seatOf(rooms.join('room', 'modern', 'alice', 't1'));
    const b = seatOf(rooms.join('room', 'modern', 'bob', 't2'));
    expect(rooms.release(a.room, a.seat)).toBe(b.seat);
    expect(seatOf(rooms.join('room', 'modern', 'carol', 't3')).seat.index).toBe(0);
    rooms.release(b.room, rooms.partnerOf(b.room, b.seat)!);
    expect(rooms.release(b.room, b.seat)).toBeUndefined();
    expect(rooms.size).toBe(0);
    // A new room under the same code may have the other suite.
    expect(rooms.join('room', 'des', 'dave', 't4')).toMatchObject({ ok: true });
  });

  it('releasing a seat twice does not disturb its successor', () => {
    const rooms = new Rooms<string>(10);
    const a = seatOf(rooms.join('room', 'modern', 'alice', 't1'));
    rooms.release(a.room, a.seat);
    const c = seatOf(rooms.join('room', 'modern', 'carol', 't2'));
    rooms.release(a.room, a.seat);
    expect(rooms.size).toBe(1);
    expect(c.room.seats[0]).toBe(c.seat);
  });

  it('refuses a new room past maxRooms with server-busy, but still seats joiners of existing rooms', () => {
    const rooms = new Rooms<string>(1);
    rooms.join('one', 'modern', 'alice', 't1');
    expect(rooms.join('two', 'modern', 'bob', 't2')).toEqual({ ok: false, code: 'server-busy' });
    expect(rooms.join('one', 'modern', 'bob', 't2')).toMatchObject({ ok: true });
  });
});

function heldPair() {
  const rooms = new Rooms<string>(10);
  const a = seatOf(rooms.join('room', 'modern', 'alice', 't-alice'));
  const b = seatOf(rooms.join('room', 'modern', 'bob', 't-bob'));
  return { rooms, a, b };
}

describe('Rooms: held seats and resume', () => {
  it('a held seat keeps its place: the room counts as full and is not deleted', () => {
    const { rooms, a, b } = heldPair();
    expect(rooms.hold(a.room, a.seat)).toBe(b.seat);
    expect(a.seat.peer).toBeUndefined();
    expect(rooms.join('room', 'modern', 'carol', 't')).toEqual({ ok: false, code: 'room-full' });
    rooms.hold(b.room, b.seat);
    expect(rooms.size).toBe(1);
  });

  it('resume with the seat token gives the same seat back with a fresh token', () => {
    const { rooms, a, b } = heldPair();
    rooms.hold(a.room, a.seat);
    const resumed = rooms.resume('room', 't-alice', 't-new', 'alice-2');
    expect(resumed).toMatchObject({ ok: true, seat: a.seat, partner: b.seat, replaced: undefined });
    expect(a.seat).toMatchObject({ peer: 'alice-2', tokenHash: 't-new' });
    expect(rooms.resume('room', 't-alice', 't-x', 'mallory')).toEqual({ ok: false }); // old token is spent
  });

  it('resume with an unknown token or room is refused and changes nothing', () => {
    const { rooms, a } = heldPair();
    rooms.hold(a.room, a.seat);
    expect(rooms.resume('room', 't-wrong', 't-x', 'mallory')).toEqual({ ok: false });
    expect(rooms.resume('elsewhere', 't-alice', 't-x', 'mallory')).toEqual({ ok: false });
    expect(a.seat).toMatchObject({ peer: undefined, tokenHash: 't-alice' });
  });

  it('resume onto a seat whose connection is still there replaces that connection', () => {
    const { rooms, a } = heldPair();
    expect(rooms.resume('room', 't-alice', 't-new', 'alice-2')).toMatchObject({
      ok: true,
      replaced: 'alice',
    });
    expect(a.seat.peer).toBe('alice-2');
  });

  it('both seats may be held and resumed; the pair is the same pair', () => {
    const { rooms, a, b } = heldPair();
    rooms.hold(a.room, a.seat);
    rooms.hold(b.room, b.seat);
    expect(rooms.resume('room', 't-bob', 't-b2', 'bob-2')).toMatchObject({ ok: true, partner: a.seat });
    expect(rooms.resume('room', 't-alice', 't-a2', 'alice-2')).toMatchObject({
      ok: true,
      partner: b.seat,
    });
  });

  it('a seat held while alone may be resumed with whoever joined since', () => {
    const rooms = new Rooms<string>(10);
    const a = seatOf(rooms.join('room', 'modern', 'alice', 't-alice'));
    rooms.hold(a.room, a.seat);
    const c = seatOf(rooms.join('room', 'modern', 'carol', 't-carol'));
    expect(rooms.resume('room', 't-alice', 't-a2', 'alice-2')).toMatchObject({
      ok: true,
      partner: c.seat,
    });
  });

  it('when the partner left (or was replaced) while the seat was held, resume is refused and the seat released', () => {
    const { rooms, a, b } = heldPair();
    rooms.hold(a.room, a.seat);
    rooms.release(b.room, b.seat);
    const carol = seatOf(rooms.join('room', 'modern', 'carol', 't-carol'));
    const result = rooms.resume('room', 't-alice', 't-a2', 'alice-2');
    expect(result).toMatchObject({ ok: false, released: { seat: a.seat, partner: carol.seat } });
    expect(rooms.partnerOf(carol.room, carol.seat)).toBeUndefined();
    expect(seatOf(rooms.join('room', 'modern', 'alice-2', 't-a3')).seat.index).toBe(0);
  });

  it('compares token hashes with the function it is given, each seat with both hashes', () => {
    const compared: [string, string][] = [];
    const rooms = new Rooms<string>(10, (s, t) => {
      compared.push([s, t]);
      return false;
    });
    rooms.join('room', 'modern', 'alice', 't-alice');
    rooms.join('room', 'modern', 'bob', 't-bob');
    compared.length = 0;
    rooms.resume('room', 'probe', 'next', 'x');
    expect(compared).toEqual([
      ['t-alice', 'probe'],
      ['t-alice', 'next'],
      ['t-bob', 'probe'],
      ['t-bob', 'next'],
    ]);
  });
});

describe('Rooms: a lost answer is recovered by asking again', () => {
  it('a join repeated with the same token gets the same seat back, not the other one', () => {
    const rooms = new Rooms<string>(10);
    const a = seatOf(rooms.join('room', 'modern', 'alice', 't-alice'));
    rooms.hold(a.room, a.seat);
    const again = seatOf(rooms.join('room', 'modern', 'alice-2', 't-alice'));
    expect(again).toMatchObject({ seat: a.seat, partner: undefined, again: { replaced: undefined } });
    expect(a.seat.peer).toBe('alice-2');
    expect(a.room.seats[1]).toBeUndefined();
  });

  it('a join repeated into a full room gets its own seat, replacing a connection still there', () => {
    const rooms = new Rooms<string>(10);
    const a = seatOf(rooms.join('room', 'modern', 'alice', 't-alice'));
    const b = seatOf(rooms.join('room', 'modern', 'bob', 't-bob'));
    expect(rooms.join('room', 'modern', 'bob-2', 't-bob')).toMatchObject({
      ok: true,
      seat: b.seat,
      partner: a.seat,
      again: { replaced: 'bob' },
    });
    expect(rooms.join('room', 'modern', 'carol', 't-carol')).toEqual({ ok: false, code: 'room-full' });
  });

  it('a resume repeated with the same pair matches the seat it already moved', () => {
    const { rooms, a } = heldPair();
    rooms.hold(a.room, a.seat);
    expect(rooms.resume('room', 't-alice', 't-next', 'alice-2')).toMatchObject({ ok: true, seat: a.seat });
    rooms.hold(a.room, a.seat); // the answer was lost with the link
    expect(rooms.resume('room', 't-alice', 't-next', 'alice-3')).toMatchObject({ ok: true, seat: a.seat });
    expect(a.seat).toMatchObject({ peer: 'alice-3', tokenHash: 't-next' });
    // Once the client moves on, the older token is spent for good.
    expect(rooms.resume('room', 't-next', 't-later', 'alice-4')).toMatchObject({ ok: true });
    expect(rooms.resume('room', 't-alice', 't-next', 'mallory')).toEqual({ ok: false });
  });
});
