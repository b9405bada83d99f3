// The trivially correct model of a volume (it lives in src/testing, where the crash campaign
// uses it too).

export { VolumeModel, firstDiff } from '../../src/testing/volume-model';
