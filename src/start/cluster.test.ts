import { describe, expect, it } from 'vitest';
import { workerExecArgv } from './cluster.js';
import { SERVE_SEMI_SPACE_MIB } from './young-generation.js';

describe('workerExecArgv', () => {
  it('bounds the young generation of a worker, keeping the primary’s own node options', () => {
    expect(workerExecArgv(['--enable-source-maps'], undefined)).toEqual(['--enable-source-maps', `--max-semi-space-size=${SERVE_SEMI_SPACE_MIB}`]);
  });

  it('leaves an explicit semi-space size alone, given as an option or in NODE_OPTIONS', () => {
    expect(workerExecArgv(['--max-semi-space-size=16'], undefined)).toEqual(['--max-semi-space-size=16']);
    expect(workerExecArgv([], '--trace-gc --max-semi-space-size=32')).toEqual([]);
    // V8 takes the underscored spelling too; it was not recognised here before, and the bound was appended.
    expect(workerExecArgv(['--max_semi_space_size=8'], undefined)).toEqual(['--max_semi_space_size=8']);
  });
});
