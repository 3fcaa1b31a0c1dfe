"""Everything that trains, and everything the engine certificate's code digest covers: the lesson's
experiments and data, its batch orders, the run record, the models, the compatibility layer across
TF/Keras versions, the engines, the devices, and the probes and mutants of the batched engine.
The only wing that imports TensorFlow (kept by import-linter).  Importing this package imports
nothing."""
