//! Running independent jobs, perhaps at the same time. The core starts no threads (the
//! WASM builds have none): the host passes a [`Parallel`] that runs tasks on its own
//! (the CLI's runs them on rayon's pool), and [`map`] gives typed results back in job
//! order, whatever order the tasks ran in.

/// One unit of work; it leaves its result where it was told to.
pub type Task<'a> = Box<dyn FnOnce() + Send + 'a>;

/// Runs independent tasks, perhaps at the same time.
pub trait Parallel: Sync {
    /// Runs every task; returns when all have run.
    fn run_all(&self, tasks: Vec<Task<'_>>);
}

/// Runs tasks one after another on the calling thread (the core's own, and WASM's).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sequential;

impl Parallel for Sequential {
    fn run_all(&self, tasks: Vec<Task<'_>>) {
        for task in tasks {
            task();
        }
    }
}

/// Runs `jobs` through `par` and returns their results in job order.
pub fn map<'a, T: Send + 'a>(
    par: &dyn Parallel,
    jobs: Vec<Box<dyn FnOnce() -> T + Send + 'a>>,
) -> Vec<T> {
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(jobs.len()).collect();
    let tasks: Vec<Task<'_>> = jobs
        .into_iter()
        .zip(slots.iter_mut())
        .map(|(job, slot)| Box::new(move || *slot = Some(job())) as Task<'_>)
        .collect();
    par.run_all(tasks);
    slots
        .into_iter()
        .map(|s| s.expect("Parallel::run_all runs every task"))
        .collect()
}

/// Runs tasks last first: for tests that results do not depend on the order tasks ran.
#[cfg(test)]
pub(crate) struct Backwards;

#[cfg(test)]
impl Parallel for Backwards {
    fn run_all(&self, tasks: Vec<Task<'_>>) {
        for task in tasks.into_iter().rev() {
            task();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order() {
        let jobs = |n: usize| -> Vec<Box<dyn FnOnce() -> usize + Send>> {
            (0..n)
                .map(|i| Box::new(move || i * i) as Box<dyn FnOnce() -> usize + Send>)
                .collect()
        };
        assert_eq!(map(&Sequential, jobs(5)), vec![0, 1, 4, 9, 16]);
        assert_eq!(map(&Backwards, jobs(5)), vec![0, 1, 4, 9, 16]);
        assert!(map(&Sequential, jobs(0)).is_empty());
    }
}
