// Builds the charts' plotly.js: plotly.js's core (which registers scatter) with the bar
// and heatmap traces, minified, the way plotly.js builds its own partial bundles
// (esbuild, iife wrapped in UMD, attribute descriptions stripped). Run by
// scripts/vendor-plotly inside a fresh `npm ci` of this folder.
//
//   node build.mjs OUTFILE
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'acorn';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const NAME = 'bar, heatmap, scatter';
const TRACES = ['bar', 'heatmap', 'scatter'];

// plotly.js's compress_attributes step: the attributes' descriptions (for its schema
// docs) and three other meta fields, never read when drawing, are dropped from its
// source before bundling. plotly.js does it with regular expressions written for its
// source's old layout; its 4.x source spreads a description over lines in ways they
// miss, so the properties are found by parsing instead.
const META = new Set(['description', 'hrName', 'requiredOpts', 'otherOpts']);

// Every node of an acorn syntax tree.
function* nodes(node) {
    yield node;
    for(const value of Object.values(node)) {
        for(const child of Array.isArray(value) ? value : [value]) {
            if(child && typeof child.type === 'string') yield* nodes(child);
        }
    }
}

function stripMeta(source) {
    const cuts = [];
    for(const node of nodes(parse(source, { ecmaVersion: 'latest', sourceType: 'script' }))) {
        if(node.type !== 'Property' || node.computed || node.kind !== 'init' || node.method) continue;
        const key = node.key.type === 'Identifier' ? node.key.name : node.key.value;
        if(!META.has(key)) continue;
        // the property and the comma after it (a last property keeps the comma before
        // it: a trailing comma is valid)
        const after = /^\s*,/.exec(source.slice(node.end));
        cuts.push([node.start, node.end + (after ? after[0].length : 0)]);
    }
    // a cut inside one already kept goes with it; then cut from the end, so the
    // earlier offsets hold
    cuts.sort((a, b) => a[0] - b[0]);
    const kept = cuts.filter(([from], i) => !cuts.slice(0, i).some(([, to]) => from < to));
    let out = source;
    for(const [from, to] of kept.reverse()) out = out.slice(0, from) + out.slice(to);
    return out;
}

const stripMetaPlugin = {
    name: 'strip-attribute-meta',
    setup(b) {
        b.onLoad({ filter: /[\\/]node_modules[\\/]plotly\.js[\\/](src|lib)[\\/].*\.js$/ }, (args) => ({
            contents: stripMeta(readFileSync(args.path, 'utf8')),
            loader: 'js',
        }));
    },
};

const outfile = process.argv[2];
if(!outfile) throw new Error('usage: node build.mjs OUTFILE');
const version = require('plotly.js/package.json').version;

const result = await build({
    entryPoints: ['index.js'],
    write: false,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    target: 'es2016',
    define: { global: 'window', 'define.amd': 'false' },
    // registry.js requires maplibre-gl's stylesheet when a map trace registers; none
    // does here, so the stylesheet is left out rather than inlined.
    loader: { '.css': 'empty' },
    plugins: [stripMetaPlugin],
    logLevel: 'warning',
});

const header = [
    '/**',
    `* plotly.js (${NAME} - minified) v${version}`,
    '* Copyright 2012-2026, Plotly, Inc.',
    '* All rights reserved.',
    '* Licensed under the MIT license',
    '*/',
    // plotly.js's own UMD wrapper of its esbuild output: `window.Plotly` is what
    // Dash's renderer and dcc.Graph use.
    '(',
    ' function(root, factory) {',
    '  if (typeof module === "object" && module.exports) {',
    '   module.exports = factory();',
    '  } else {',
    '   root.moduleName = factory();',
    '  }',
    '} (typeof self !== "undefined" ? self : this, () => {',
    '',
].join('\n');
const footer = ['', 'window.Plotly = Plotly;', 'return Plotly;', '}));'].join('\n');
const body = header + result.outputFiles[0].text + footer;

// The bundle must register exactly the traces it is named for.
const found = [...body.matchAll(/moduleType:"trace",name:"([a-z0-9]+)"/g)].map((m) => m[1]).sort();
if(found.join() !== TRACES.join()) {
    throw new Error(`bundle registers ${found}, expected ${TRACES}`);
}
writeFileSync(outfile, body);
