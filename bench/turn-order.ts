/**
 * The turns of `n` relays, one block each, as indices to repeat in a cycle: a walk through every
 * ordered pair of relays (an Eulerian circuit of the complete directed graph, by Hierholzer's
 * algorithm), so that each relay follows each other one equally often. A relay's first rounds
 * pay for what the relay before it left behind (its collector, its timers, a core still busy):
 * with three relays rotated in a fixed order, Duet followed socket.io in two turns of three.
 */
export function turnOrder(n: number): number[] {
  if (n <= 1) return [0];
  const unused = Array.from({ length: n }, (_, from) =>
    Array.from({ length: n - 1 }, (_, i) => (from + 1 + i) % n),
  );
  const stack = [0];
  const circuit: number[] = [];
  while (stack.length > 0) {
    const from = stack[stack.length - 1]!;
    const to = unused[from]!.pop();
    if (to === undefined) circuit.push(stack.pop()!);
    else stack.push(to);
  }
  circuit.reverse();
  circuit.pop(); // the circuit ends where it began: the cycle repeats from there
  return circuit;
}
