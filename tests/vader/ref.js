// Reference scores from the npm package vader-sentiment: reads UTF-8
// sentences, one per line, from the file named first; prints for each
// "compound neg neu pos" (shortest round-trip decimal), one line per input.
// With --bench N: prints the sentences/s of N passes (after one warm-up
// pass) instead.
'use strict';
const fs = require('fs');
const vader = require('vader-sentiment');
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
if (process.argv[3] === '--bench') {
  const passes = parseInt(process.argv[4] || '3', 10);
  let sink = 0;
  for (const s of lines) sink += vader.SentimentIntensityAnalyzer.polarity_scores(s).compound; // warm-up
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < passes; p++)
    for (const s of lines) sink += vader.SentimentIntensityAnalyzer.polarity_scores(s).compound;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(((lines.length * passes) / secs).toFixed(0) + ' ' + (sink === 12345.678 ? 'x' : ''));
} else {
  const out = [];
  for (const s of lines) {
    const r = vader.SentimentIntensityAnalyzer.polarity_scores(s);
    out.push(`${r.compound} ${r.neg} ${r.neu} ${r.pos}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}
