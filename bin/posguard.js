#!/usr/bin/env node
// Launcher: runs the TypeScript sources through tsx's loader, so `npx posguard`
// works right after `npm ci` with no build step and never runs a stale build.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
