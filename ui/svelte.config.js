// Svelte 5 understands TypeScript in components natively; no preprocessor needed.
export default {};
