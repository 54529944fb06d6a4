// The settings the in-editor Mocha suite (suite.ts) runs under, whichever VS Code hosts it
// (extension-host.test.ts in code-server, run-test-electron.ts in desktop VS Code).
export const SUITE_SETTINGS = {
  'specexec.threads': 1,
  'specexec.debounceMs': 50,
  'specexec.maxTokens': 48,
  'specexec.chat.maxTokens': 96,
  'specexec.chat.temperature': 0,
  // a fixed draft tree budget: the same trees as the reference engine gets (auto adapts to timing)
  'specexec.budget': 4,
  // the shared engine (the default) exits as soon as the test's window closes
  'specexec.sharedEngineIdleMinutes': 0,
};
