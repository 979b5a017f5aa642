'use strict';
// The traces the app draws (tests/unit/test_plotly_bundle.py reads dashboards/ for
// them): plotly.js's core registers scatter itself.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap')
]);

module.exports = Plotly;
