import { FramelogError } from '../../errors.js';
import { applyRecovery, type RecoveryDeps } from './applyRecovery.js';
import { decideRecovery, type RecoveryAction } from './decideRecovery.js';
import { observeClone, type CloneToObserve } from './observeClone.js';

/** More rounds than the table has stages that ask for another look: a clone that does not settle. */
const MAX_ROUNDS = 8;

/**
 * Git recovery of a clone: observe ({@link observeClone}) → decide ({@link decideRecovery}) → act
 * ({@link applyRecovery}), again while the actions end in `observe-again`. Returns every action
 * applied, in order. Throws (code `git-failed`) when a round decides exactly what the round before
 * it applied — a remedy that did not take — rather than trying forever. The caller holds the
 * clone's lock.
 */
export async function recoverClone(clone: CloneToObserve, deps: RecoveryDeps): Promise<RecoveryAction[]> {
  const applied: RecoveryAction[] = [];
  let before = '';
  for (let round = 1; ; round++) {
    const actions = decideRecovery(await observeClone(clone), clone.role);
    const plan = JSON.stringify(actions);
    if (plan === before || round > MAX_ROUNDS) {
      throw new FramelogError(`git: ${clone.dir}: recovery does not settle (round ${round}: ${actions.map((a) => a.kind).join(', ')} again); check the clone by hand`, 'git-failed');
    }
    await applyRecovery(actions, deps);
    applied.push(...actions);
    if (actions.at(-1)?.kind !== 'observe-again') return applied;
    before = plan;
  }
}
