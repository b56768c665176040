//! Writing and deleting reviews: the movie is checked against the replica, or asked of movie
//! on a miss (and the replica learns the answer); a review and the event it raises commit
//! together.
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store};
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::movie_service_client::MovieServiceClient;

use crate::domain::{Created, Deleted, MovieCheck, ReplicaMovie, Review, ReviewError};
use crate::error::Error;
use crate::store;

const CONTEXT: &str = "cinema.review";

/// A review as asked for (fields checked at the edge).
pub struct NewReview {
    pub review_id: String,
    pub movie_id: String,
    pub content: String,
}

pub async fn create(store: &Store, movie: &Peer, new: NewReview) -> Result<Review, Error> {
    let check = ReplicaMovie::check(store::movie(store, &new.movie_id).await?.as_ref())?;
    if check == MovieCheck::Ask {
        ask_movie(movie, &new.movie_id).await?;
    }
    let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
    let (review, created) = Review::write(new.review_id, new.movie_id, new.content, now);
    let mut tx = store.begin().await?;
    if check == MovieCheck::Ask {
        store::learn_movie(&mut tx, &ReplicaMovie::learned(review.movie_id())).await?;
    }
    if !store::insert(&mut tx, &review).await? {
        return Err(Error::IdTaken(review.review_id().to_owned()));
    }
    tx.raise(created_event(&created)).await?;
    tx.commit().await?;
    Ok(review)
}

/// Asks movie whether a movie the replica has not heard of exists.
async fn ask_movie(movie: &Peer, movie_id: &str) -> Result<(), Error> {
    let request = pb::GetMovieRequest {
        movie_id: movie_id.to_owned(),
    };
    let answer = movie
        .call(Retry::Safe, |channel| {
            let request = movie.request(request.clone());
            async move { MovieServiceClient::new(channel).get_movie(request).await }
        })
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => {
            Err(ReviewError::MovieNotFound(movie_id.to_owned()).into())
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn delete(store: &Store, review_id: &str) -> Result<(), Error> {
    let mut tx = store.begin().await?;
    let mut review = store::lock(&mut tx, review_id)
        .await?
        .ok_or_else(|| Error::NotFound(review_id.to_owned()))?;
    let deleted = review
        .delete()
        .ok_or_else(|| Error::NotFound(review_id.to_owned()))?;
    store::save(&mut tx, &review).await?;
    tx.raise(deleted_event(&deleted)).await?;
    tx.commit().await?;
    Ok(())
}

fn created_event(c: &Created) -> Event {
    let event = pb::ReviewCreated {
        review_id: c.review_id.clone(),
        movie_id: c.movie_id.clone(),
    };
    Event::new(CONTEXT, &event, &c.review_id, 1, &c.review_id)
}

fn deleted_event(d: &Deleted) -> Event {
    let event = pb::ReviewDeleted {
        review_id: d.review_id.clone(),
        movie_id: d.movie_id.clone(),
    };
    let id = &d.review_id;
    Event::new(CONTEXT, &event, id, Deleted::VERSION, id)
}
