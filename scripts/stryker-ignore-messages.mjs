// A Stryker ignore plugin (stryker.config.mjs): the message of a DuetError is for developers,
// and the tests rightly assert the error's `code`, never its text (STYLE.md, rule 4). Mutating
// the message of `duetError(code, message)` therefore makes equivalent mutants by the dozen;
// this marks them ignored in one place instead of a disable comment on every throw.

const REASON = "a DuetError's message is for developers: tests assert its code, never its text";

/** @type {{ shouldIgnore(path: any): string | undefined }} */
const duetErrorMessages = {
  shouldIgnore(path) {
    const call = path.parentPath;
    if (!call?.isCallExpression()) return undefined;
    const { callee, arguments: args } = call.node;
    const isDuetError = callee.type === 'Identifier' && callee.name === 'duetError';
    return isDuetError && args[1] === path.node ? REASON : undefined;
  },
};

export const strykerPlugins = [{ kind: 'Ignore', name: 'DuetErrorMessages', value: duetErrorMessages }];
