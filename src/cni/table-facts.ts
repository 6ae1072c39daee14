/** What the versions table knows of a plugin release: its images and the Kubernetes minors its project tests it against. */
import { addonRow } from '../versions/index.js';
import type { CniName } from './names.js';

export function tableFacts(id: CniName): { images(version: string): readonly string[]; testedMinors(version: string): readonly [number, number] | undefined } {
  return {
    images: (version) => addonRow(id, version)?.images ?? [],
    testedMinors: (version) => addonRow(id, version)?.tested,
  };
}

/** The tag of an image reference (quay.io/calico/node:v3.32.1 -> v3.32.1), or undefined. */
export function imageTag(image: string | undefined): string | undefined {
  return image ? /:([^:/@]+)(@.*)?$/.exec(image)?.[1] : undefined;
}
