import * as OpenCC from 'opencc-js';

type Region = 'tw' | 'hk';
const converters = new Map<Region, (text: string) => string>();

/** Simplified to traditional with the region's phrase table (Taiwan or Hong Kong wording); built on first use. */
export function toTraditional(text: string, region: Region): string {
  let convert = converters.get(region);
  if (!convert) {
    convert = OpenCC.Converter({ from: 'cn', to: region === 'tw' ? 'twp' : 'hk' });
    converters.set(region, convert);
  }
  return convert(text);
}
