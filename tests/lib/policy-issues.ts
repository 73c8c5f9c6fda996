// The issues a policy document is refused with (none when it parses), for the schema's tests.
import { PolicyInvalidError } from '../../agent/src/errors.js';
import { parsePolicy } from '../../agent/src/policy/load.js';

export function policyIssues(doc: unknown) {
  try {
    parsePolicy(doc, 'test');
  } catch (err) {
    if (err instanceof PolicyInvalidError) return err.issues;
    throw err;
  }
  return [];
}
