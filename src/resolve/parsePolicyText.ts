import { parsePlan, type FieldPolicy } from '../delta/plan.js';
import { FramelogError } from '../errors.js';

/**
 * Reads a policy as a person types it: a name (`max`) or JSON (`{"priority":["boss","w*"]}`),
 * checked as the plan checks its `policies`. `what` names the option in the error.
 */
export function parsePolicyText(text: string, what = '--policy'): FieldPolicy {
  let raw: unknown = text;
  if (/^\s*[{["]/.test(text)) {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new FramelogError(`${what}: not JSON: ${(e as Error).message}`, 'bad-argument');
    }
  }
  try {
    return parsePlan({ policies: { t: { f: raw } } }).policies!.t.f;
  } catch (e) {
    throw new FramelogError(`${what}: ${(e as Error).message.replace(/^framelog\.json: policies\.t\.f(\.priority)?: /, '')}`, 'bad-argument');
  }
}
