/** The gateway's version, as printed by the CLI and reported on /status. */
export const VERSION = '0.1.0';
