// Seeded random numbers live in stats/ (pure numerics); trainers use them from here.
export * from '../../stats/random.js';
