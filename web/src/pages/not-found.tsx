export function NotFoundPage() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page here. <a href="/prompts">See every prompt</a>.
      </p>
    </section>
  );
}
