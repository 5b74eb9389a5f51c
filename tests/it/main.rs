//! All integration tests in one binary (each test binary links all of Bevy).

mod cli;
mod compare;
mod core;
mod determinism;
mod edit;
mod engine;
mod fidelity;
mod fmt;
mod health;
mod hostile;
mod lessons;
mod picture;
mod scenarios;
mod seams;
mod strategies;
mod theory;
mod timeline;
mod view;
