import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_TIMEOUT_SECONDS, HELP, parseCommand } from '../src/args.ts';
import { EXIT } from '../src/exit-codes.ts';

const LINK = 'http://127.0.0.1:8080/#k3mq-8vth-x2pe';
const parse = (...argv: string[]) => parseCommand(argv, {});
const DEFAULT_FILES = { saveTo: '.', acceptAll: false, maxFileBytes: DEFAULT_MAX_FILE_BYTES };

describe('duet arguments', () => {
  it('every command has --help and -h, and duet alone shows the overview', () => {
    for (const topic of ['start', 'join', 'send', 'send-file'] as const) {
      expect(parse(topic, '--help')).toEqual({ kind: 'help', topic });
      expect(parse(topic, '-h')).toEqual({ kind: 'help', topic });
      expect(HELP[topic]).toContain(`Usage: duet ${topic}`);
      expect(HELP[topic]).toContain('Exit codes:');
    }
    expect(parse()).toEqual({ kind: 'help', topic: 'duet' });
    expect(parse('--help')).toEqual({ kind: 'help', topic: 'duet' });
  });

  it('start: a URL (default, $DUET_URL or --url), a suite and a des salt', () => {
    expect(parse('start')).toEqual({
      kind: 'start',
      app: { origin: 'http://127.0.0.1:8080', pathname: '/' },
      suite: 'modern',
      saltHex: '',
      files: DEFAULT_FILES,
    });
    expect(parseCommand(['start'], { DUET_URL: 'https://duet.example/app/' })).toMatchObject({
      app: { origin: 'https://duet.example', pathname: '/app/' },
    });
    expect(
      parse(
        'start',
        '--url',
        'http://127.0.0.1:9/',
        '--suite',
        'des',
        '--salt',
        '123456789ABCDEFA1122334455667788',
      ),
    ).toEqual({
      kind: 'start',
      app: { origin: 'http://127.0.0.1:9', pathname: '/' },
      suite: 'des',
      saltHex: '123456789abcdefa1122334455667788',
      files: DEFAULT_FILES,
    });
  });

  it('join and send read the room, suite and salt from the link', () => {
    expect(parse('join', `${LINK}&suite=des&salt=00ff`)).toEqual({
      kind: 'join',
      app: { origin: 'http://127.0.0.1:8080', pathname: '/' },
      invitation: { room: 'k3mq-8vth-x2pe', suite: 'des', saltHex: '00ff' },
      files: DEFAULT_FILES,
    });
    expect(parse('send', LINK)).toEqual({
      kind: 'send',
      app: { origin: 'http://127.0.0.1:8080', pathname: '/' },
      invitation: { room: 'k3mq-8vth-x2pe', suite: 'modern', saltHex: '' },
      timeoutMs: DEFAULT_TIMEOUT_SECONDS * 1000,
      verbose: false,
      texts: [],
    });
    expect(parse('send', LINK, '--timeout', '2.5', '--verbose', 'hello', 'there')).toMatchObject({
      timeoutMs: 2500,
      verbose: true,
      texts: ['hello there'],
    });
    // A link that does not name its suite can be completed, not contradicted.
    expect(parse('join', LINK, '--suite', 'des', '--salt', 'aa')).toMatchObject({
      invitation: { suite: 'des', saltHex: 'aa' },
    });
  });

  it.each([
    [['bogus']],
    [['start', 'extra']],
    [['start', '--suite', 'rot13']],
    [['start', '--salt', 'aa']],
    [['start', '--suite', 'des', '--salt', 'xyz']],
    [['start', '--url', 'ftp://x']],
    [['start', '--url', 'not a url']],
    [['start', '--bogus']],
    [['join']],
    [['join', 'k3mq-8vth-x2pe']],
    [['join', 'http://127.0.0.1:8080/']],
    [['join', LINK, 'extra']],
    [['join', LINK, '--timeout', '5']],
    [['join', `${LINK}&suite=des`, '--suite', 'modern']],
    [['join', `${LINK}&suite=des&salt=aa`, '--salt', 'bb']],
    [['send', LINK, '--timeout', '0']],
    [['send', LINK, '--timeout', 'soon']],
    [['send', LINK, '--url']],
    [['send', LINK, '--max-file-size', '1M', 'x']],
    [['send', LINK, '--save-to', '/tmp', 'x']],
    [['send-file', LINK]],
    [['send-file', `${LINK}&suite=des`, 'notes.txt']],
    [['send-file', LINK, '--accept-files', 'notes.txt']],
    [['send-file', LINK, '--max-file-size', 'big', 'notes.txt']],
    [['send-file', LINK, '--max-file-size', '0', 'notes.txt']],
    [['join', LINK, '--save-to', '']],
  ])('%j is a usage error (exit 2), never a crash', (argv) => {
    expect(() => parseCommand(argv, {})).toThrow(expect.objectContaining({ exitCode: EXIT.usage }));
  });

  it('files: send-file takes files, join and start a folder, whether to ask, and a size limit', () => {
    expect(parse('send-file', LINK, 'a.pdf', 'b c.png')).toMatchObject({
      kind: 'send-file',
      paths: ['a.pdf', 'b c.png'],
      timeoutMs: DEFAULT_TIMEOUT_SECONDS * 1000,
      verbose: false,
      maxFileBytes: DEFAULT_MAX_FILE_BYTES,
    });
    expect(parse('send-file', LINK, '--max-file-size', '500M', 'a')).toMatchObject({
      maxFileBytes: 500 * 1024 ** 2,
    });
    expect(parse('join', LINK)).toMatchObject({
      files: { saveTo: '.', acceptAll: false, maxFileBytes: DEFAULT_MAX_FILE_BYTES },
    });
    expect(parse('join', LINK, '--save-to', 'in', '--accept-files', '--max-file-size', '2g')).toMatchObject({
      files: { saveTo: 'in', acceptAll: true, maxFileBytes: 2 * 1024 ** 3 },
    });
    expect(parse('start', '--max-file-size', '1536')).toMatchObject({ files: { maxFileBytes: 1536 } });
    expect(parse('start', '--max-file-size', '1.5K')).toMatchObject({ files: { maxFileBytes: 1536 } });
  });
});
