import type { Logger } from '../../core/log.js';
import type { GpioBackend } from './backend.js';
import { OnoffBackend, loadOnoff } from './backend-onoff.js';
import { SysfsBackend } from './backend-sysfs.js';
import { DEFAULT_SYSFS_ROOT, defaultSysfsRoot } from './sysfs-tree.js';

export interface BackendChoice {
  backend: 'auto' | 'onoff' | 'sysfs';
  sysfsRoot?: string;
  chip?: string;
}

/** Pick the backend for a source or a CLI call (see the `backend` key in README.md). */
export async function chooseBackend(c: BackendChoice, log?: Logger): Promise<GpioBackend> {
  const root = (c.sysfsRoot ?? defaultSysfsRoot()).replace(/(.)\/+$/, '$1');
  const onDefault = root === DEFAULT_SYSFS_ROOT;
  if (c.backend === 'sysfs') return new SysfsBackend(root, c.chip);
  if (c.backend === 'onoff') {
    if (!onDefault) throw new Error(`backend onoff only works on ${DEFAULT_SYSFS_ROOT}, sysfs root is ${root}`);
    await loadOnoff();
    return new OnoffBackend(c.chip);
  }
  if (!onDefault) {
    log?.info({ sysfsRoot: root }, 'gpio: custom sysfs root, using the sysfs backend (polling, no edge interrupts)');
    return new SysfsBackend(root, c.chip);
  }
  try {
    await loadOnoff();
    return new OnoffBackend(c.chip);
  } catch (e) {
    log?.warn({ err: (e as Error).message }, 'gpio: onoff (epoll addon) failed to load, using the sysfs backend: inputs are polled, no edge interrupts');
    return new SysfsBackend(root, c.chip);
  }
}
