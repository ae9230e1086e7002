export * from './model.js';
export * from './read.js';
export * from './render.js';
export * from './svg.js';
