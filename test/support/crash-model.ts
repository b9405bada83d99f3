// What may be on a volume after a crash (it lives in src/testing, where `lsa crashtest` uses
// it too).

export { CrashModel } from '../../src/testing/crash-model';
