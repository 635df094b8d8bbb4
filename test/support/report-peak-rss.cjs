// Preloaded into a child process (`node -r`): prints its peak resident set size when it exits, so a
// test can bound the memory of a whole CLI run without polling /proc.
process.on('exit', () => {
  process.stderr.write(`\npeak-rss-kb=${process.resourceUsage().maxRSS}\n`);
});
