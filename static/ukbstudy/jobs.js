// Live progress on the jobs page: poll the status endpoint while any job is unfinished.
(function () {
  "use strict";
  const url = document.currentScript.dataset.statusUrl;
  const finished = new Set(["succeeded", "failed", "cancelled"]);
  async function refresh() {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const { jobs } = await response.json();
    let active = false;
    for (const job of jobs) {
      const row = document.querySelector(`tr[data-job="${job.id}"]`);
      if (!row) { active = true; continue; }  // a new job: the next reload shows it
      const bar = row.querySelector("progress");
      bar.max = job.total || 1;
      bar.value = job.done;
      row.querySelector(".message").textContent = job.message;
      row.querySelector(".status").textContent = job.status + (job.queue_position ? ` (#${job.queue_position} in queue)` : "");
      if (job.duration !== null) row.querySelector(".duration").textContent = `${job.duration} s`;
      if (!finished.has(job.status)) active = true;
    }
    if (active) setTimeout(refresh, 2000);
  }
  setTimeout(refresh, 2000);
})();
