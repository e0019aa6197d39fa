import type { IConfiguration } from 'dependency-cruiser';

/** src/ folders from the bottom of the stack up; a folder imports only the rows below its own */
export const LAYERS: string[][];
declare const config: IConfiguration;
export default config;
